#include "core/fleet/broker_admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "core/fleet/provisioning.h"
#include "core/registry/sqlite_registry_store.h"
#include "fleet/signing.h"
#include "testing/test_env.h"

namespace weft::core::fleet {
namespace {

namespace pki = ::weft::fleet;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(BrokerAdminTest, WithoutAPidFileTheFilesAreWrittenAndNoBrokerIsSignalled) {
  auto dir = weft::testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  BrokerAdmin admin(dir->path());
  auto r = admin.Apply("CRL", "ACL");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->signalled);
  EXPECT_THAT(r->note, HasSubstr("broker not managed"));
  EXPECT_EQ(ReadAll(admin.CrlPath()), "CRL");
  EXPECT_EQ(ReadAll(admin.AclPath()), "ACL");
  // A stale pid file naming a process that is not mosquitto (this test) is never signalled.
  std::ofstream(admin.PidPath()) << ::getpid() << "\n";
  r = admin.Apply("CRL2", "ACL2");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->signalled);
  EXPECT_THAT(r->note, HasSubstr("not a running mosquitto"));
}

TEST(BrokerSyncTest, ConcurrentRequestsShareRewritesAndEachSeesItsChange) {
  std::atomic<int> committed{0};
  std::atomic<int> last_seen{0};
  BrokerSync sync([&]() -> Result<BrokerReload> {
    last_seen.store(committed.load());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return BrokerReload{};
  });
  std::vector<std::thread> threads;
  std::atomic<int> violations{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        const int mine = committed.fetch_add(1) + 1;  // "commit", then sync
        EXPECT_TRUE(sync.Sync().ok());
        if (last_seen.load() < mine) violations.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(violations.load(), 0) << "a Sync returned before a rewrite that saw its change";
  EXPECT_LT(sync.rewrites(), 200u) << "rewrites are shared";
  EXPECT_GE(sync.rewrites(), 1u);
}

// The acceptance through Revoke(): a real mosquitto configured by WriteBrokerConfig accepts a
// provisioned device, and after Revoke() refuses a new connection with the revoked certificate
// while the other device still connects.
class RevokeAtTheBrokerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (broker_pid_ > 0) {
      ::kill(broker_pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 100 && ::waitpid(broker_pid_, &status, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      ::kill(broker_pid_, SIGKILL);
      ::waitpid(broker_pid_, &status, WNOHANG);
    }
  }
  pid_t broker_pid_ = 0;
};

int Publish(const std::string& dir, uint16_t port, const std::string& device) {
  const std::string cmd = "timeout 10 mosquitto_pub -h 127.0.0.1 -p " + std::to_string(port) +
                          " --cafile " + dir + "/ca.pem --cert " + dir + "/" + device +
                          ".pem --key " + dir + "/" + device + ".key -i " + device +
                          " -q 1 -t weft/v1/edge/" + device + "/state -m hi > " + dir + "/" +
                          device + ".out 2>&1";
  return std::system(cmd.c_str());
}

TEST_F(RevokeAtTheBrokerTest, ARevokedDeviceIsRefusedByMosquittoAfterRevoke) {
  if (::access("/usr/sbin/mosquitto", X_OK) != 0) GTEST_SKIP() << "mosquitto not installed";
  auto tmp = weft::testing::TempDir::Make();
  ASSERT_TRUE(tmp.ok());
  ::chmod(tmp->path().c_str(), 0755);  // mosquitto (dropped to its own user) reaches the files
  SystemClock& clock = SystemClock::Default();
  auto reg = registry::SqliteRegistryStore::Open(tmp->path() + "/registry.db", &clock);
  ASSERT_TRUE(reg.ok());
  auto audit = audit::AuditLog::Open(tmp->path() + "/audit", &clock);
  ASSERT_TRUE(audit.ok());
  ProvisioningOptions o;
  o.state_dir = tmp->path() + "/state";
  o.registry = reg->get();
  o.audit = audit->get();
  o.clock = &clock;
  auto svc = ProvisioningService::Open(o);
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  auto port = weft::testing::FreeLoopbackPort();
  ASSERT_TRUE(port.ok());
  auto files = (*svc)->WriteBrokerConfig({.host = "127.0.0.1", .port = *port});
  ASSERT_TRUE(files.ok()) << files.status().ToString();

  // Two devices via claim tokens; their key and certificate go where mosquitto_pub reads them.
  const std::string work = tmp->path() + "/devices";
  ASSERT_EQ(::mkdir(work.c_str(), 0755), 0);
  std::ofstream(work + "/ca.pem") << (*svc)->ca_pem();
  for (const std::string dev : {"dev-a", "dev-b"}) {
    ASSERT_TRUE((*svc)->AddToAllowlist({"SN-" + dev, dev, "lyon", "gw", "ana", {}}).ok());
    auto token = (*svc)->IssueClaimToken("SN-" + dev, std::chrono::hours(1));
    ASSERT_TRUE(token.ok());
    auto key = pki::GenerateEcKey();
    auto csr = pki::MakeCsr(key->private_pem, {.common_name = dev});
    auto r = (*svc)->Provision({.claim_token = token->token, .csr = *csr});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    std::ofstream(work + "/" + dev + ".pem") << r->certificate;
    std::ofstream(work + "/" + dev + ".key") << key->private_pem;
  }

  broker_pid_ = ::fork();
  ASSERT_GE(broker_pid_, 0);
  if (broker_pid_ == 0) {
    ::execl("/usr/sbin/mosquitto", "mosquitto", "-c", files->conf.c_str(), nullptr);
    ::_exit(127);
  }
  ASSERT_TRUE(weft::testing::WaitForListener(*port, std::chrono::seconds(5)).ok())
      << ReadAll(files->dir + "/mosquitto.log");
  // The broker writes its pid file: the core finds it there.
  for (int i = 0; i < 100 && ReadAll(files->dir + "/mosquitto.pid").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string why;
  BrokerAdmin admin(files->dir);
  ASSERT_EQ(admin.ManagedBrokerPid(&why), std::optional<pid_t>(broker_pid_)) << why;

  ASSERT_EQ(Publish(work, *port, "dev-a"), 0) << ReadAll(work + "/dev-a.out")
                                              << ReadAll(files->dir + "/mosquitto.log");
  ASSERT_EQ(Publish(work, *port, "dev-b"), 0) << ReadAll(work + "/dev-b.out");

  auto revoked = (*svc)->Revoke("dev-a", "stolen", "ana");
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_TRUE(revoked->broker.signalled) << revoked->broker.note;
  // mosquitto reloads on SIGHUP asynchronously: poll until the revoked device is refused.
  bool refused = false;
  for (int i = 0; i < 50 && !refused; ++i) {
    refused = Publish(work, *port, "dev-a") != 0;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(refused) << "mosquitto still accepts the revoked certificate\n"
                       << ReadAll(files->dir + "/mosquitto.log");
  EXPECT_EQ(Publish(work, *port, "dev-b"), 0) << "the other device still connects\n"
                                              << ReadAll(work + "/dev-b.out");
}

}  // namespace
}  // namespace weft::core::fleet
