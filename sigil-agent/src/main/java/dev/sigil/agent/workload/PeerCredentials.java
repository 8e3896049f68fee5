package dev.sigil.agent.workload;

/**
 * Who is on the other end of a Workload API connection, as the kernel reports it for the Unix socket
 * ({@code SO_PEERCRED}) when the connection was made. Never taken from anything the caller sends.
 */
record PeerCredentials(int pid, int uid, int gid) {
    PeerCredentials {
        if (pid <= 0) {
            throw new IllegalArgumentException("peer pid is " + pid + "; the kernel reports a positive pid for a local peer");
        }
    }
}
