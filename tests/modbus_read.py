# modbus_read.py PORT FC ADDRESS COUNT -> the registers, space separated (FC 3 holding, 4 input).
# A minimal Modbus TCP reader for the process tests (python3 only, no libmodbus binding).
import socket, struct, sys
port, fc, addr, count = (int(a) for a in sys.argv[1:5])
s = socket.create_connection(("127.0.0.1", port), timeout=1)
s.sendall(struct.pack(">HHHBBHH", 1, 0, 6, 1, fc, addr, count))
data = b""
while len(data) < 9 + 2 * count:
    chunk = s.recv(256)
    if not chunk: sys.exit(1)
    data += chunk
if data[7] != fc: sys.exit(2)
print(" ".join(str(v) for v in struct.unpack(">%dh" % count, data[9:9 + 2 * count])))
