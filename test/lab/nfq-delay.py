#!/usr/bin/env python3
"""Packet-level link delay for the lab (this kernel has no netem): holds every packet that
iptables sends to NFQUEUE for a fixed time, then accepts it, in order. Because whole packets
are delayed (SYNs, ACKs, every segment), TCP behaves as on a slow real link: the handshake
costs a round trip, and Nagle and delayed ACKs show, which a delaying TCP relay cannot show.

    python3 nfq-delay.py QUEUE_NUM CONTROL_SOCKET

Runs in the network namespace that holds the iptables rules (NFQUEUE is per namespace).
The delay of each packet is set per queue through CONTROL_SOCKET: a line "delay MS" sets the
one-way delay (answer "ok"). Standard library only: speaks nfnetlink_queue over a raw
netlink socket.
"""
import collections
import os
import select
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NF_ACCEPT = 1
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NLMSG_ERROR = 2


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def message(msg_type, queue, attrs, flags=NLM_F_REQUEST, seq=0):
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def main():
    if len(sys.argv) != 3:
        print("usage: nfq-delay.py QUEUE_NUM CONTROL_SOCKET", file=sys.stderr)
        return 2
    queue = int(sys.argv[1])
    control_path = sys.argv[2]
    nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    nl.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    nl.bind((0, 0))
    config = [
        [attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET))],
        [attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0, NFQNL_COPY_META))],
        [attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 65536))],
    ]
    for seq, attrs in enumerate(config, 1):
        nl.send(message(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK, seq))
        reply = nl.recv(65536)
        kind = struct.unpack_from("=H", reply, 4)[0]
        if kind == NLMSG_ERROR:
            err = struct.unpack_from("=i", reply, 16)[0]
            if err != 0:
                print(f"nfq-delay: queue {queue}: config step {seq} failed: {os.strerror(-err)}", file=sys.stderr)
                return 1

    try:
        os.unlink(control_path)
    except FileNotFoundError:
        pass
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.bind(control_path)
    control.listen(8)
    control.setblocking(False)
    clients = {}

    one_way = 0.0
    held = collections.deque()  # (due, packet id), due never decreasing
    last_due = 0.0

    def accept(packet_id):
        nl.send(message(NFQNL_MSG_VERDICT, queue, [attr(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))]))

    print(f"nfq-delay: queue {queue} ready", flush=True)
    while True:
        now = time.monotonic()
        while held and held[0][0] <= now:
            accept(held.popleft()[1])
        timeout = max(0.0, held[0][0] - now) if held else None
        readable, _, _ = select.select([nl, control, *clients], [], [], timeout)
        for sock in readable:
            if sock is nl:
                data = nl.recv(1 << 20)
                offset = 0
                while offset + 16 <= len(data):
                    length, kind = struct.unpack_from("=IH", data, offset)
                    if length < 16:
                        break
                    if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                        pos = offset + 20
                        end = offset + length
                        while pos + 4 <= end:
                            alen, atype = struct.unpack_from("=HH", data, pos)
                            if alen < 4:
                                break
                            if atype & 0x7FFF == NFQA_PACKET_HDR:
                                packet_id = struct.unpack_from("!I", data, pos + 4)[0]
                                if one_way <= 0 and not held:
                                    accept(packet_id)
                                else:
                                    last_due = max(last_due, time.monotonic() + one_way)
                                    held.append((last_due, packet_id))
                                break
                            pos += (alen + 3) & ~3
                    offset += (length + 3) & ~3
            elif sock is control:
                conn, _ = control.accept()
                clients[conn] = b""
            else:
                chunk = sock.recv(4096)
                if not chunk:
                    del clients[sock]
                    sock.close()
                    continue
                clients[sock] += chunk
                while b"\n" in clients[sock]:
                    line, clients[sock] = clients[sock].split(b"\n", 1)
                    words = line.decode(errors="replace").split()
                    if len(words) == 2 and words[0] == "delay" and words[1].replace(".", "", 1).isdigit():
                        one_way = float(words[1]) / 1000.0
                        sock.send(b"ok\n")
                    else:
                        sock.send(b'error: expected "delay ONE_WAY_MS"\n')


if __name__ == "__main__":
    sys.exit(main())
