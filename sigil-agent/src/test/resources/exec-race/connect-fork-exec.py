"""Plays the Workload API exec race with real processes.

Usage: connect-fork-exec.py AGENT_SOCKET RELAY_SOCKET PROGRAM [ARG...]

This process (started unprivileged) connects to the agent's Workload API socket and waits for the
agent's first HTTP/2 bytes, which the agent sends only after it has recorded the connection's peer
credentials. It then forks. The child keeps the inherited connection and relays it, byte for byte, to
one client that connects to RELAY_SOCKET (so that a real gRPC client makes its calls over the
inherited connection). The parent, whose pid the kernel reported as the peer, waits for a line on
stdin and then execs PROGRAM (a setuid binary in the test): same pid, same start time, new
executable and new effective uid.
"""
import os
import select
import socket
import sys

agent_path, relay_path, program = sys.argv[1], sys.argv[2], sys.argv[3]
program_args = sys.argv[3:]

agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
agent.connect(agent_path)
first = agent.recv(65536)
if not first:
    sys.exit("the agent closed the connection before sending anything")

relay = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
staged = relay_path + ".staged"
relay.bind(staged)
relay.listen(1)

if os.fork() == 0:
    os.rename(staged, relay_path)  # ready: the test connects once the path exists
    client, _ = relay.accept()
    relay.close()
    client.sendall(first)
    peers = {agent: client, client: agent}
    while True:
        readable, _, _ = select.select(list(peers), [], [])
        for source in readable:
            data = source.recv(65536)
            if not data:
                os._exit(0)
            peers[source].sendall(data)

relay.close()
sys.stdin.readline()
os.execv(program, program_args)
