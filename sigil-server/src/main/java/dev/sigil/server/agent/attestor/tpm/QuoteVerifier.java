package dev.sigil.server.agent.attestor.tpm;

import dev.sigil.proto.agent.v1.TpmQuote;
import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Verifies a TPM2_Quote: the AK's signature over the TPMS_ATTEST, that it is a quote (magic, type),
 * that its extraData is the server's nonce (freshness: a recorded quote is useless later), that its PCR
 * selection of the SHA-256 bank covers every required PCR, and that the PCR values the agent sent hash
 * to the quote's pcrDigest. Only then are those values trustworthy: they are what the TPM held.
 *
 * <p>Fails with {@link QuoteRefusedException} naming what was wrong; never returns values it did not verify.
 */
final class QuoteVerifier {
    private static final long TPM_GENERATED_VALUE = 0xff544347L;
    private static final int TPM_ST_ATTEST_QUOTE = 0x8018;
    private static final int MAX_ATTEST = 1024;
    private static final int MAX_SIGNATURE = 1024;
    private static final int PCR_COUNT = 24;

    private QuoteVerifier() {
    }

    /** The verified PCR values of the SHA-256 bank, by index (lower-case hex). */
    static SortedMap<Integer, String> verify(TpmPublic ak, TpmQuote quote, byte[] nonce, SortedSet<Integer> required) {
        byte[] attest = quote.getAttest().toByteArray();
        byte[] signature = quote.getSignature().toByteArray();
        if (attest.length == 0 || attest.length > MAX_ATTEST || signature.length == 0 || signature.length > MAX_SIGNATURE) {
            throw new QuoteRefusedException("quote is " + attest.length + " bytes with a " + signature.length
                    + "-byte signature; expected 1 to " + MAX_ATTEST + " and 1 to " + MAX_SIGNATURE, true);
        }
        try {
            // through the server's crypto provider (the native one when it loads), as token signatures are
            Signature verifier = dev.sigil.core.crypto.CryptoProviders.signature("SHA256withRSA");
            verifier.initVerify(ak.key());
            verifier.update(attest);
            if (!verifier.verify(signature)) {
                throw new QuoteRefusedException("quote signature does not verify with attestation key "
                        + HexFormat.of().formatHex(ak.name()) + ": it was not made by this node's tpm", false);
            }
        } catch (GeneralSecurityException e) {
            throw new QuoteRefusedException("quote signature does not verify with attestation key "
                    + HexFormat.of().formatHex(ak.name()) + ": " + e.getMessage(), false);
        }
        TpmReader in = new TpmReader(attest, "quote (TPMS_ATTEST)");
        try {
            long magic = in.u32();
            int type = in.u16();
            if (magic != TPM_GENERATED_VALUE || type != TPM_ST_ATTEST_QUOTE) {
                throw new QuoteRefusedException("signed structure has magic 0x" + Long.toHexString(magic) + " and type 0x"
                        + Integer.toHexString(type) + "; a quote has 0xff544347 and 0x8018", false);
            }
            in.sized(); // qualifiedSigner
            byte[] extraData = in.sized();
            if (!MessageDigest.isEqual(extraData, nonce)) {
                throw new QuoteRefusedException("quote nonce " + abbreviated(extraData) + " is not the nonce this server issued ("
                        + abbreviated(nonce) + "): a replayed or stale quote", false);
            }
            in.u64(); // clock
            in.u32(); // resetCount
            in.u32(); // restartCount
            in.u8(); // safe
            in.u64(); // firmwareVersion
            SortedSet<Integer> quoted = new TreeSet<>();
            long banks = in.u32();
            if (banks > 16) {
                throw new TpmFormatException("quote selects " + banks + " pcr banks; at most 16");
            }
            for (long bank = 0; bank < banks; bank++) {
                int hash = in.u16();
                byte[] select = in.bytes(in.u8());
                for (int i = 0; i < select.length * 8; i++) {
                    if ((select[i / 8] & (1 << (i % 8))) != 0) {
                        if (hash != TpmPublic.ALG_SHA256) {
                            throw new QuoteRefusedException("quote selects pcrs of hash algorithm 0x" + Integer.toHexString(hash)
                                    + "; only the sha256 bank is verified", false);
                        }
                        if (i >= PCR_COUNT) {
                            throw new TpmFormatException("quote selects pcr " + i + "; pcrs are 0 to " + (PCR_COUNT - 1));
                        }
                        quoted.add(i);
                    }
                }
            }
            byte[] pcrDigest = in.sized();
            in.end();
            SortedSet<Integer> missing = new TreeSet<>(required);
            missing.removeAll(quoted);
            if (!missing.isEmpty()) {
                throw new QuoteRefusedException("quote covers sha256 pcrs " + quoted + " but the server requires " + required
                        + "; missing " + missing, false);
            }
            List<byte[]> values = new ArrayList<>();
            quote.getPcrValuesList().forEach(value -> values.add(value.toByteArray()));
            if (values.size() != quoted.size()) {
                throw new QuoteRefusedException("quote selects " + quoted.size() + " pcrs but " + values.size() + " values were sent", true);
            }
            ByteArrayOutputStream concatenated = new ByteArrayOutputStream();
            SortedMap<Integer, String> verified = new TreeMap<>();
            int i = 0;
            for (int pcr : quoted) {
                byte[] value = values.get(i++);
                if (value.length != 32) {
                    throw new QuoteRefusedException("pcr " + pcr + " value is " + value.length + " bytes; a sha256 pcr is 32", true);
                }
                concatenated.writeBytes(value);
                verified.put(pcr, HexFormat.of().formatHex(value));
            }
            if (!MessageDigest.isEqual(TpmPublic.sha256(concatenated.toByteArray()), pcrDigest)) {
                throw new QuoteRefusedException("the pcr values sent do not reproduce the quote's pcr digest "
                        + HexFormat.of().formatHex(pcrDigest) + ": they are not what the tpm quoted", false);
            }
            return verified;
        } catch (TpmFormatException e) {
            throw new QuoteRefusedException(e.getMessage(), true);
        }
    }

    private static String abbreviated(byte[] value) {
        String hex = HexFormat.of().formatHex(value);
        return hex.length() > 16 ? hex.substring(0, 16) + "..." : hex.isEmpty() ? "(empty)" : hex;
    }
}
