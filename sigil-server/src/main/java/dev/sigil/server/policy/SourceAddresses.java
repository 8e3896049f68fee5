package dev.sigil.server.policy;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code source_address} obligation: a list of IPv4/IPv6 CIDR blocks in the form OpenSSH's
 * {@code source-address} certificate option takes. Only address literals are accepted (never a host
 * name, so parsing never touches DNS), and a block must not have host bits set, so
 * {@code 10.1.2.3/8} is refused rather than silently widened or narrowed.
 */
public final class SourceAddresses {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private SourceAddresses() {
    }

    /**
     * Parses {@code "10.0.0.0/8, 192.0.2.7"} into normalised blocks ({@code 10.0.0.0/8},
     * {@code 192.0.2.7/32}), in the order given, without duplicates.
     *
     * @throws IllegalArgumentException naming the bad entry and what would be valid
     */
    public static List<String> parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("source address list is empty; give CIDR blocks such as 10.0.0.0/8,192.0.2.7");
        }
        Set<String> blocks = new LinkedHashSet<>();
        for (String part : text.split(",", -1)) {
            blocks.add(Block.parse(part.strip()).toString());
        }
        return List.copyOf(blocks);
    }

    /**
     * The addresses inside both lists: for every pair of blocks the smaller one when one contains the
     * other (CIDR blocks either nest or are disjoint). Empty when the lists do not overlap.
     */
    static List<String> intersect(List<String> first, List<String> second) {
        Set<String> both = new LinkedHashSet<>();
        for (String a : first) {
            Block left = Block.parse(a);
            for (String b : second) {
                Block right = Block.parse(b);
                if (left.contains(right)) {
                    both.add(right.toString());
                } else if (right.contains(left)) {
                    both.add(left.toString());
                }
            }
        }
        return List.copyOf(both);
    }

    private record Block(byte[] address, int prefix) {
        static Block parse(String text) {
            int slash = text.indexOf('/');
            String host = slash < 0 ? text : text.substring(0, slash);
            if (!IPV4.matcher(host).matches() && !IPV6.matcher(host).matches()) {
                throw new IllegalArgumentException("source address '" + text
                        + "' is not an IPv4 or IPv6 address or CIDR block (host names are not allowed)");
            }
            byte[] bytes;
            try {
                bytes = InetAddress.getByName(host).getAddress(); // a literal: no name lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("source address '" + text + "' is not a valid IP address");
            }
            int max = bytes.length * 8;
            int prefix = max;
            if (slash >= 0) {
                String bits = text.substring(slash + 1);
                if (!bits.matches("\\d{1,3}") || Integer.parseInt(bits) > max) {
                    throw new IllegalArgumentException("source address '" + text + "' has an invalid prefix length; use 0 to " + max);
                }
                prefix = Integer.parseInt(bits);
            }
            Block block = new Block(bytes, prefix);
            if (!block.value().equals(block.masked(prefix))) {
                throw new IllegalArgumentException("source address '" + text + "' has host bits set; use "
                        + new Block(toBytes(block.masked(prefix), bytes.length), prefix));
            }
            return block;
        }

        boolean contains(Block other) {
            return address.length == other.address.length && prefix <= other.prefix
                    && masked(prefix).equals(other.masked(prefix));
        }

        private BigInteger value() {
            return new BigInteger(1, address);
        }

        private BigInteger masked(int bits) {
            int width = address.length * 8;
            BigInteger mask = BigInteger.ONE.shiftLeft(width).subtract(BigInteger.ONE)
                    .shiftRight(bits).xor(BigInteger.ONE.shiftLeft(width).subtract(BigInteger.ONE));
            return value().and(mask);
        }

        private static byte[] toBytes(BigInteger value, int length) {
            byte[] raw = value.toByteArray();
            byte[] out = new byte[length];
            int copy = Math.min(raw.length, length);
            System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
            return out;
        }

        @Override
        public String toString() {
            try {
                return InetAddress.getByAddress(address).getHostAddress() + "/" + prefix;
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
