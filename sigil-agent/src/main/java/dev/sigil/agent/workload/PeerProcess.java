package dev.sigil.agent.workload;

/**
 * The process behind a Workload API connection, fixed when the agent accepted the connection: the
 * kernel's peer credentials (pid, uid, gid captured at {@code connect()}) and, read from {@code /proc}
 * at accept, the process's start time and executable. Every attestation and every response checks that
 * the pid still names this process, running this executable, with all of its ids still equal to the
 * peer credentials ({@link CallerAttestor#check}).
 */
record PeerProcess(PeerCredentials credentials, ProcessImage image) {
    int pid() {
        return credentials.pid();
    }

    long startTime() {
        return image.startTime();
    }
}
