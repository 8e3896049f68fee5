package dev.sigil.server.registration;

import java.security.SecureRandom;
import java.time.Instant;
import java.util.UUID;

/**
 * Entry ids: UUIDs of version 7 (RFC 9562), 48 bits of creation time in milliseconds then 74 random
 * bits. Unique without coordination between servers, unguessable enough for an identifier (not a
 * secret), and ordered by creation time, which keeps index inserts local and makes listings
 * (ordered by id) read in roughly creation order.
 */
final class EntryIds {
    private static final SecureRandom RANDOM = new SecureRandom();

    private EntryIds() {}

    static String next(Instant now) {
        byte[] random = new byte[10];
        RANDOM.nextBytes(random);
        long millis = now.toEpochMilli() & 0xFFFF_FFFF_FFFFL;
        long high = (millis << 16) | 0x7000L | ((random[0] & 0x0FL) << 8) | (random[1] & 0xFFL);
        long low = 0x8000_0000_0000_0000L | ((random[2] & 0x3FL) << 56);
        for (int i = 3; i < 10; i++) {
            low |= (random[i] & 0xFFL) << (8 * (9 - i));
        }
        return new UUID(high, low).toString();
    }
}
