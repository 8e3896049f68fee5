package dev.sigil.agent.workload;

/**
 * What a pid named at one moment: the process (its start time, field 22 of {@code /proc/<pid>/stat}) and
 * the program it ran (the file behind {@code /proc/<pid>/exe}). A pid reused by a later process has
 * another start time; a process that called {@code exec} runs another file, so its executable differs.
 */
record ProcessImage(long startTime, Executable executable) {

    /**
     * A program file by device and inode. Replacing the file on disk does not change what a running
     * process's executable is: the process keeps the old inode (that is the drift monitor's concern).
     */
    record Executable(long device, long inode) {}
}
