#include "fleet/broker_config.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "fleet/pki.h"
#include "testing/test_env.h"

namespace weft::fleet {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A child process with stdout and stderr in `out_file`.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_file) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

// The exit code, or nullopt (and the child killed) after `timeout`.
std::optional<int> WaitExit(pid_t pid, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return std::nullopt;
}

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return done();
}

TEST(BrokerConfigTest, MosquittoConfNamesTheFilesAndTheMutualTlsSettings) {
  const std::string conf = MosquittoConf("/state/broker", {.host = "0.0.0.0", .port = 18883});
  for (const char* line :
       {"listener 18883 0.0.0.0\n", "cafile /state/broker/ca.pem\n",
        "certfile /state/broker/server.pem\n", "keyfile /state/broker/server.key\n",
        "crlfile /state/broker/crl.pem\n", "acl_file /state/broker/acl\n",
        "require_certificate true\n", "use_identity_as_username true\n", "tls_version tlsv1.2\n",
        "allow_anonymous false\n", "persistence false\n",
        "log_dest file /state/broker/mosquitto.log\n", "pid_file /state/broker/mosquitto.pid\n"}) {
    EXPECT_NE(conf.find(line), std::string::npos) << line << "\n" << conf;
  }
}

TEST(BrokerConfigTest, AclIsSortedDeduplicatedAndPerDevice) {
  auto acl = AclText({"dev-b", "dev-a", "dev-b"});
  ASSERT_TRUE(acl.ok()) << acl.status().ToString();
  const std::string expected_tail =
      "user weft-core\ntopic readwrite #\n"
      "\nuser dev-a\ntopic write weft/v1/edge/dev-a/#\ntopic write weft/v1/uplink/dev-a/#\n"
      "topic read weft/v1/edge/dev-a/cmd/#\n"
      "topic read weft/v1/edge/dev-a/committed/#\n"
      "\nuser dev-b\ntopic write weft/v1/edge/dev-b/#\ntopic write weft/v1/uplink/dev-b/#\n"
      "topic read weft/v1/edge/dev-b/cmd/#\n"
      "topic read weft/v1/edge/dev-b/committed/#\n";
  ASSERT_GE(acl->size(), expected_tail.size());
  EXPECT_EQ(acl->substr(acl->size() - expected_tail.size()), expected_tail) << *acl;
  EXPECT_EQ(acl->find('+'), std::string::npos);

  auto none = AclText({}, "core-2");
  ASSERT_TRUE(none.ok());
  EXPECT_NE(none->find("user core-2\ntopic readwrite #\n"), std::string::npos);
  EXPECT_EQ(none->find("weft-core"), std::string::npos);
}

TEST(BrokerConfigTest, AclRefusesIdsThatCouldWidenAccess) {
  for (const std::string& bad :
       {std::string(""), std::string("#"), std::string("+"), std::string("a/b"), std::string("a b"),
        std::string("dev\nuser weft-core"), std::string("dév"), std::string(65, 'x')}) {
    auto acl = AclText({"dev-ok", bad});
    EXPECT_EQ(acl.status().code(), StatusCode::kInvalidArgument) << "id: " << bad;
    EXPECT_FALSE(IsValidDeviceId(bad)) << bad;
  }
  EXPECT_TRUE(IsValidDeviceId(std::string(64, 'x')));
  EXPECT_TRUE(IsValidDeviceId("Line_3.press-07"));
  EXPECT_FALSE(AclText({"dev-a"}, "bad identity").ok());
  EXPECT_FALSE(AclText({"weft-core"}).ok());  // a device cannot take the service's identity
}

TEST(BrokerConfigTest, WriteFileAtomicReplacesWithModeAndLeavesNoTempFiles) {
  auto dir = testing::TempDir::Make();
  ASSERT_TRUE(dir.ok());
  const std::string path = dir->path() + "/acl";
  ASSERT_TRUE(WriteFileAtomic(path, "first", 0600).ok());
  EXPECT_EQ(ReadFile(path), "first");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(WriteFileAtomic(path, "second", 0644).ok());
  EXPECT_EQ(ReadFile(path), "second");
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  ASSERT_TRUE(WriteFileAtomic(path, "", 0644).ok());
  EXPECT_EQ(ReadFile(path), "");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir->path())) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  Status missing = WriteFileAtomic(dir->path() + "/no/such/dir/acl", "x", 0644);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no/such/dir"), std::string::npos) << missing.ToString();
}

// A real mosquitto with the generated configuration, the fleet CA, a server certificate, an
// empty CRL and an ACL for dev-a and dev-b. dev-x has a valid certificate but no ACL entry.
class MosquittoFleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Make();
    ASSERT_TRUE(dir.ok());
    dir_.emplace(std::move(*dir));
    broker_dir_ = dir_->path() + "/broker";
    clients_dir_ = dir_->path() + "/clients";
    std::filesystem::create_directory(broker_dir_);
    std::filesystem::create_directory(clients_dir_);
    // Started as root, mosquitto drops to the `mosquitto` user: it must reach and read the
    // broker files and write its log and pid file there.
    ::chmod(dir_->path().c_str(), 0755);
    ::chmod(broker_dir_.c_str(), 0777);

    now_ = TimePoint(std::chrono::floor<seconds>(std::chrono::system_clock::now()));
    auto ca = MakeCa({.common_name = "Weft Fleet CA"}, std::chrono::days(30), now_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    auto server = IssueKeyAndCert(ca_, {.common_name = "localhost"},
                                  {.validity = std::chrono::days(1),
                                   .server = true,
                                   .dns_sans = {"localhost"},
                                   .ip_sans = {"127.0.0.1"}},
                                  now_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    Write(broker_dir_ + "/ca.pem", ca_.cert_pem);
    Write(broker_dir_ + "/server.pem", server->second.cert_pem);
    Write(broker_dir_ + "/server.key", server->first.private_pem);  // test only: 0644
    for (const std::string id : {"weft-core", "dev-a", "dev-b", "dev-x"}) {
      auto client =
          IssueKeyAndCert(ca_, {.common_name = id}, {.validity = std::chrono::days(1)}, now_);
      ASSERT_TRUE(client.ok()) << client.status().ToString();
      serials_[id] = client->second.serial_hex;
      ASSERT_TRUE(
          WriteFileAtomic(clients_dir_ + "/" + id + ".pem", client->second.cert_pem, 0600).ok());
      ASSERT_TRUE(
          WriteFileAtomic(clients_dir_ + "/" + id + ".key", client->first.private_pem, 0600).ok());
    }
    WriteCrl({});
    WriteAcl({"dev-a", "dev-b"});

    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt) {
      auto port = testing::FreeLoopbackPort();
      ASSERT_TRUE(port.ok());
      port_ = *port;
      Write(broker_dir_ + "/mosquitto.conf",
            MosquittoConf(broker_dir_, {.host = "127.0.0.1", .port = port_}));
      const pid_t pid = Spawn({"mosquitto", "-c", broker_dir_ + "/mosquitto.conf"},
                              dir_->path() + "/mosquitto.out");
      if (testing::WaitForListener(port_, seconds(3)).ok()) {
        pid_ = pid;
      } else {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
    ASSERT_GT(pid_, 0) << "mosquitto did not start: " << ReadFile(dir_->path() + "/mosquitto.out")
                       << BrokerLog();
  }

  void TearDown() override {
    if (subscriber_ > 0) {
      ::kill(subscriber_, SIGTERM);
      WaitExit(subscriber_, seconds(2));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      WaitExit(pid_, seconds(3));
    }
  }

  void Write(const std::string& path, const std::string& text) {
    ASSERT_TRUE(WriteFileAtomic(path, text, 0644).ok()) << path;
  }
  void WriteCrl(const std::vector<std::string>& revoked_ids) {
    std::vector<Revoked> revoked;
    for (const std::string& id : revoked_ids) revoked.push_back({serials_[id], now_});
    auto crl = MakeCrl(ca_, revoked, now_, std::chrono::days(7));
    ASSERT_TRUE(crl.ok()) << crl.status().ToString();
    Write(broker_dir_ + "/crl.pem", *crl);
  }
  void WriteAcl(const std::vector<std::string>& active) {
    auto acl = AclText(active);
    ASSERT_TRUE(acl.ok()) << acl.status().ToString();
    Write(broker_dir_ + "/acl", *acl);
  }
  std::string BrokerLog() const { return ReadFile(broker_dir_ + "/mosquitto.log"); }

  std::vector<std::string> ClientArgs(const std::string& tool, const std::string& id) {
    return {tool,
            "-h",
            "127.0.0.1",
            "-p",
            std::to_string(port_),
            "--cafile",
            broker_dir_ + "/ca.pem",
            "--cert",
            clients_dir_ + "/" + id + ".pem",
            "--key",
            clients_dir_ + "/" + id + ".key",
            "-i",
            id + "-" + tool + "-" + std::to_string(++client_seq_),
            "-q",
            "1"};
  }

  // mosquitto_pub as `id`; its exit code (nullopt on timeout) and output.
  std::pair<std::optional<int>, std::string> Publish(const std::string& id,
                                                     const std::string& topic,
                                                     const std::string& message) {
    std::vector<std::string> argv = ClientArgs("mosquitto_pub", id);
    for (const std::string& a : {std::string("-t"), topic, std::string("-m"), message}) {
      argv.push_back(a);
    }
    const std::string out = dir_->path() + "/pub-" + std::to_string(client_seq_) + ".out";
    const pid_t pid = Spawn(argv, out);
    const std::optional<int> rc = WaitExit(pid, seconds(5));
    return {rc, ReadFile(out)};
  }

  // The core identity subscribed to every edge topic; returns once it receives messages.
  void StartCoreSubscriber() {
    sub_out_ = dir_->path() + "/sub.out";
    std::vector<std::string> argv = ClientArgs("mosquitto_sub", "weft-core");
    for (const char* a : {"-t", "weft/v1/edge/#", "-v"}) argv.emplace_back(a);
    argv.insert(argv.begin(), {"stdbuf", "-oL"});
    subscriber_ = Spawn(argv, sub_out_);
    int n = 0;
    const bool up = WaitUntil(
        [&] {
          Publish("weft-core", "weft/v1/edge/ping", "ping-" + std::to_string(++n));
          return Received().find("ping-") != std::string::npos;
        },
        seconds(5));
    ASSERT_TRUE(up) << Received() << BrokerLog();
  }

  std::string Received() const { return ReadFile(sub_out_); }

  // Everything published before this call has reached the subscriber once it returns (QoS 1,
  // one broker, one subscriber: in order).
  void Drain() {
    const std::string marker = "end-" + std::to_string(++client_seq_);
    ASSERT_EQ(Publish("weft-core", "weft/v1/edge/sentinel", marker).first, 0);
    ASSERT_TRUE(WaitUntil([&] { return Received().find(marker) != std::string::npos; }, seconds(5)))
        << Received();
  }

  // SIGHUP, then wait until the broker logged one more reload.
  void Reload() {
    auto count = [&] {
      const std::string log = BrokerLog();
      size_t n = 0;
      for (size_t p = log.find("Reloading config"); p != std::string::npos;
           p = log.find("Reloading config", p + 1)) {
        ++n;
      }
      return n;
    };
    const size_t before = count();
    ASSERT_EQ(::kill(pid_, SIGHUP), 0);
    ASSERT_TRUE(WaitUntil([&] { return count() > before; }, seconds(5))) << BrokerLog();
  }

  std::optional<testing::TempDir> dir_;
  std::string broker_dir_, clients_dir_, sub_out_;
  TimePoint now_;
  CertAuthority ca_;
  std::map<std::string, std::string> serials_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  pid_t subscriber_ = -1;
  int client_seq_ = 0;
};

TEST_F(MosquittoFleetTest, AclConfinesDevicesToTheirOwnTopics) {
  StartCoreSubscriber();
  EXPECT_EQ(Publish("dev-a", "weft/v1/edge/dev-a/x", "a-own").first, 0);
  EXPECT_EQ(Publish("dev-b", "weft/v1/edge/dev-b/state", "b-own").first, 0);
  // Denied publishes are accepted on the wire (MQTT 3.1.1) but never delivered.
  Publish("dev-a", "weft/v1/edge/dev-b/x", "a-into-b");
  Publish("dev-x", "weft/v1/edge/dev-x/x", "x-not-listed");
  Drain();
  const std::string got = Received();
  EXPECT_NE(got.find("weft/v1/edge/dev-a/x a-own"), std::string::npos) << got;
  EXPECT_NE(got.find("weft/v1/edge/dev-b/state b-own"), std::string::npos) << got;
  EXPECT_EQ(got.find("a-into-b"), std::string::npos) << got;
  EXPECT_EQ(got.find("x-not-listed"), std::string::npos) << got;
  EXPECT_NE(BrokerLog().find("dev-x"), std::string::npos);  // it did connect: TLS is fine
}

TEST_F(MosquittoFleetTest, RevokedCertificateIsRefusedAfterSighup) {
  StartCoreSubscriber();
  EXPECT_EQ(Publish("dev-b", "weft/v1/edge/dev-b/x", "b-before").first, 0);
  Drain();
  EXPECT_NE(Received().find("b-before"), std::string::npos) << Received();

  // The CRL alone (dev-b still in the ACL) must keep it out.
  WriteCrl({"dev-b"});
  Reload();
  auto [rc, out] = Publish("dev-b", "weft/v1/edge/dev-b/x", "b-after");
  EXPECT_NE(rc, std::optional<int>(0)) << out;
  EXPECT_EQ(Publish("dev-a", "weft/v1/edge/dev-a/x", "a-after").first, 0);
  Drain();
  const std::string got = Received();
  EXPECT_EQ(got.find("b-after"), std::string::npos) << got;
  EXPECT_NE(got.find("a-after"), std::string::npos) << got;
  const std::string log = BrokerLog();
  EXPECT_NE(log.find("certificate verify failed", log.find("Reloading config")), std::string::npos)
      << log;

  // Un-revoking and reloading again lets it back in: the reload really re-reads the CRL.
  WriteCrl({});
  Reload();
  EXPECT_EQ(Publish("dev-b", "weft/v1/edge/dev-b/x", "b-again").first, 0);
  Drain();
  EXPECT_NE(Received().find("b-again"), std::string::npos) << Received();
}

TEST_F(MosquittoFleetTest, DeviceRemovedFromTheAclCannotPublishAfterSighup) {
  StartCoreSubscriber();
  WriteAcl({"dev-a"});
  Reload();
  Publish("dev-b", "weft/v1/edge/dev-b/x", "b-unlisted");
  EXPECT_EQ(Publish("dev-a", "weft/v1/edge/dev-a/x", "a-listed").first, 0);
  Drain();
  const std::string got = Received();
  EXPECT_EQ(got.find("b-unlisted"), std::string::npos) << got;
  EXPECT_NE(got.find("a-listed"), std::string::npos) << got;
}

}  // namespace
}  // namespace weft::fleet
