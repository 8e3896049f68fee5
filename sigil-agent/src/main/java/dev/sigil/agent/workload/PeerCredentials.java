package dev.sigil.agent.workload;

/**
 * Who is on the other end of a Workload API connection, as the kernel reports it for the Unix socket
 * ({@code SO_PEERCRED}): the pid, effective uid and effective gid of the process that called
 * {@code connect()}, captured by the kernel at that moment. Never taken from anything the caller sends,
 * and never re-read from {@code /proc}: a process that changes its ids afterwards (for example by
 * executing a setuid program) does not change these.
 *
 * @param uid the effective uid at connect, as an unsigned 32-bit value
 * @param gid the effective gid at connect, as an unsigned 32-bit value
 */
public record PeerCredentials(int pid, long uid, long gid) {
    /** {@code (uid_t) -1}: never a real id, the kernel's "no id". */
    private static final long NO_ID = 0xFFFF_FFFFL;

    public PeerCredentials {
        if (pid <= 0) {
            throw new IllegalArgumentException("peer pid is " + pid + "; the kernel reports a positive pid for a local peer");
        }
        if (uid < 0 || uid >= NO_ID) {
            throw new IllegalArgumentException("peer uid is " + uid + "; a uid is 0 to " + (NO_ID - 1));
        }
        if (gid < 0 || gid >= NO_ID) {
            throw new IllegalArgumentException("peer gid is " + gid + "; a gid is 0 to " + (NO_ID - 1));
        }
    }

    /** Credentials from the kernel's signed 32-bit {@code uid_t}/{@code gid_t} values. */
    static PeerCredentials fromKernel(int pid, int uid, int gid) {
        return new PeerCredentials(pid, Integer.toUnsignedLong(uid), Integer.toUnsignedLong(gid));
    }
}
