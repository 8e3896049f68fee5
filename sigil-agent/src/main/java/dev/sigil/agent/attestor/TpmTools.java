package dev.sigil.agent.attestor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The node's TPM 2.0 through the tpm2-tools commands ({@code tpm2_createek}, {@code tpm2_createak},
 * {@code tpm2_nvread}, {@code tpm2_activatecredential}, {@code tpm2_quote}), talking to the TPM named by a
 * TCTI ({@code device:/dev/tpmrm0} in production, {@code swtpm:host=127.0.0.1,port=N} for a software TPM).
 *
 * <p>The EK and the AK are created once per instance from the TCG templates (the EK is the same key
 * every time; the AK is new) and their contexts kept in a private working directory (mode 0700) that
 * {@link #close()} deletes. Transient objects are flushed after every command, because a TPM reached
 * without a resource manager keeps them loaded. Calls are serialized. Failures raise
 * {@link TpmException} with the command and its error output, clipped; no secret is ever in one.
 */
public final class TpmTools implements AutoCloseable {
    /** NV index of the RSA 2048 EK certificate (TCG EK Credential Profile, low range). */
    static final String EK_CERT_INDEX = "0x1c00002";
    private static final Pattern TCTI = Pattern.compile("[A-Za-z0-9_-]+(:[A-Za-z0-9_.,=/:-]*)?");
    private static final long TIMEOUT_SECONDS = 30;
    private static final int MAX_OUTPUT = 600;

    private final String tcti;
    private final Path dir;
    private boolean created;

    public TpmTools(String tcti) {
        Objects.requireNonNull(tcti, "tcti");
        if (!TCTI.matcher(tcti).matches()) {
            throw new IllegalArgumentException("tpm tcti '" + dev.sigil.core.Printable.clip(tcti)
                    + "' is invalid; use for example device:/dev/tpmrm0 or swtpm:host=127.0.0.1,port=2321");
        }
        this.tcti = tcti;
        try {
            this.dir = Files.createTempDirectory("sigil-tpm-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a working directory for the tpm: " + e.getMessage(), e);
        }
    }

    /** The EK's and a new AK's public areas (TPMT_PUBLIC), and the EK certificate when the TPM holds one (else empty). */
    public synchronized Keys createKeys() {
        run("tpm2_createek", "-c", file("ek.ctx"), "-G", "rsa", "-u", file("ek.pub"), "-f", "tpmt");
        run("tpm2_createak", "-C", file("ek.ctx"), "-c", file("ak.ctx"), "-G", "rsa", "-g", "sha256", "-s", "rsassa",
                "-u", file("ak.pub"), "-n", file("ak.name"), "-f", "tpmt");
        byte[] certificate;
        try {
            run("tpm2_nvread", EK_CERT_INDEX, "-o", file("ek.der"));
            certificate = read("ek.der");
        } catch (TpmException e) {
            certificate = new byte[0];
        }
        created = true;
        return new Keys(read("ek.pub"), read("ak.pub"), certificate);
    }

    /** TPM2_ActivateCredential with the EK (endorsement policy session) and the AK: the secret, when this TPM may recover it. */
    public synchronized byte[] activate(byte[] credentialBlob, byte[] encryptedSecret) {
        requireKeys();
        write("cred.bin", ByteBuffer.allocate(8 + credentialBlob.length + encryptedSecret.length)
                .putInt(0xBADCC0DE).putInt(1).put(credentialBlob).put(encryptedSecret).array());
        run("tpm2_startauthsession", "--policy-session", "-S", file("session.ctx"));
        try {
            run("tpm2_policysecret", "-S", file("session.ctx"), "-c", "e");
            run("tpm2_activatecredential", "-c", file("ak.ctx"), "-C", file("ek.ctx"), "-i", file("cred.bin"), "-o", file("secret.bin"),
                    "-P", "session:" + file("session.ctx"));
        } finally {
            runQuietly("tpm2_flushcontext", file("session.ctx"));
        }
        byte[] secret = read("secret.bin");
        delete("secret.bin");
        return secret;
    }

    /** TPM2_Quote with the AK over the SHA-256 bank PCRs {@code pcrs}, with {@code nonce} as qualifying data. */
    public synchronized Quote quote(byte[] nonce, List<Integer> pcrs) {
        requireKeys();
        if (pcrs.isEmpty()) {
            throw new IllegalArgumentException("a quote needs at least one pcr");
        }
        String selection = "sha256:" + pcrs.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
        run("tpm2_quote", "-c", file("ak.ctx"), "-l", selection, "-q", HexFormat.of().formatHex(nonce), "-m", file("quote.msg"),
                "-s", file("quote.sig"), "-f", "plain", "-o", file("quote.pcrs"), "-F", "values", "-g", "sha256");
        byte[] values = read("quote.pcrs");
        List<byte[]> split = new ArrayList<>();
        for (int i = 0; i + 32 <= values.length; i += 32) {
            split.add(java.util.Arrays.copyOfRange(values, i, i + 32));
        }
        return new Quote(read("quote.msg"), read("quote.sig"), split);
    }

    /** EK and AK public areas (TPMT_PUBLIC) and the DER EK certificate (empty when the TPM has none). */
    public record Keys(byte[] ekPublic, byte[] akPublic, byte[] ekCertificate) {
    }

    /** A TPMS_ATTEST, the AK's signature over it and the quoted PCR values in ascending PCR order. */
    public record Quote(byte[] attest, byte[] signature, List<byte[]> pcrValues) {
    }

    private void requireKeys() {
        if (!created) {
            throw new IllegalStateException("the tpm keys were not created yet; call createKeys first");
        }
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    private byte[] read(String name) {
        try {
            return Files.readAllBytes(dir.resolve(name));
        } catch (IOException e) {
            throw new TpmException("cannot read " + name + " written by tpm2-tools: " + e.getMessage());
        }
    }

    private void write(String name, byte[] content) {
        try {
            Files.write(dir.resolve(name), content);
        } catch (IOException e) {
            throw new TpmException("cannot write " + name + " for tpm2-tools: " + e.getMessage());
        }
    }

    private void delete(String name) {
        try {
            Files.deleteIfExists(dir.resolve(name));
        } catch (IOException e) {
            // the directory is private and deleted on close
        }
    }

    private void runQuietly(String... command) {
        try {
            run(command);
        } catch (TpmException e) {
            // best effort
        }
    }

    /** Runs one command against the TPM, then flushes the transient objects it left loaded. */
    private void run(String... command) {
        exec(command);
        if (!command[0].equals("tpm2_flushcontext")) {
            exec("tpm2_flushcontext", "-t");
        }
    }

    private void exec(String... command) {
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> environment = builder.environment();
        environment.put("TPM2TOOLS_TCTI", tcti);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new TpmException(command[0] + " cannot be run (" + e.getMessage() + "); install tpm2-tools");
        }
        try {
            process.getOutputStream().close();
            byte[] output = process.getInputStream().readAllBytes();
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new TpmException(command[0] + " did not finish in " + TIMEOUT_SECONDS + "s (tcti " + tcti + ")");
            }
            if (process.exitValue() != 0) {
                String text = new String(output, StandardCharsets.UTF_8).strip();
                throw new TpmException(command[0] + " failed with exit code " + process.exitValue() + " (tcti " + tcti + "): "
                        + dev.sigil.core.Printable.clip(text, MAX_OUTPUT));
            }
        } catch (IOException e) {
            process.destroyForcibly();
            throw new TpmException(command[0] + " failed: " + e.getMessage());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new TpmException(command[0] + " was interrupted");
        }
    }

    @Override
    public synchronized void close() {
        try (var files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.deleteIfExists(file);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temporary directory; nothing more to do
        }
    }

    @Override
    public String toString() {
        return "TpmTools[" + tcti + "]";
    }

    /** A tpm2-tools command failed; the message names the command and holds its (clipped) error output. */
    public static final class TpmException extends RuntimeException {
        public TpmException(String message) {
            super(message);
        }
    }
}
