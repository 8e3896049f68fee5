package dev.sigil.server.console;

import dev.sigil.server.admin.Actor;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The console's one-time login codes and browser sessions, in memory (a restart signs everyone out).
 *
 * <p>Guarantees: a code and a session secret are 256 random bits from {@link SecureRandom}; only their
 * SHA-256 is held, so a heap dump shows no usable secret; a code is redeemed at most once (removal is
 * atomic) and only within {@link #CODE_TTL} of being issued; a session ends after {@link #IDLE_TIMEOUT}
 * without a request, {@link #ABSOLUTE_TIMEOUT} after it began, or at sign-out, whichever comes first, and
 * an ended session is never found again. Each session carries its own CSRF token. Time comes from the
 * injected clock.
 */
public final class ConsoleSessions {
    public static final Duration CODE_TTL = Duration.ofSeconds(60);
    public static final Duration IDLE_TIMEOUT = Duration.ofMinutes(15);
    public static final Duration ABSOLUTE_TIMEOUT = Duration.ofHours(8);
    /**
     * Pending codes and live sessions each stay at most this many, so minting cannot grow the heap without
     * bound: past it, the oldest code (or the longest idle session) is dropped. Only admins mint codes.
     */
    static final int MAX_ENTRIES = 1_000;

    /**
     * Told of every code minted and session started, in the calling thread before the code or cookie is
     * handed out: the composition root writes them to the audit trail (this package may not), so a failure
     * to record one fails the login (fail closed).
     */
    public interface Events {
        void codeIssued(Actor operator, Instant expiresAt);

        void sessionStarted(Actor operator);

        static Events none() {
            return new Events() {
                @Override
                public void codeIssued(Actor operator, Instant expiresAt) {
                }

                @Override
                public void sessionStarted(Actor operator) {
                }
            };
        }
    }

    private final Clock clock;
    private final Events events;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Pending> codes = new ConcurrentHashMap<>();
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    public ConsoleSessions(Clock clock) {
        this(clock, Events.none());
    }

    public ConsoleSessions(Clock clock, Events events) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.events = Objects.requireNonNull(events, "events");
    }

    /** A freshly minted login code; its {@code toString()} hides the code. */
    public record LoginCode(String code, Instant expiresAt) {
        @Override
        public String toString() {
            return "LoginCode[expiresAt=" + expiresAt + "]";
        }
    }

    /** Who a session acts for, its CSRF token and its times. */
    record Session(Actor operator, String csrfToken, Instant startedAt, Instant lastSeen) {
        @Override
        public String toString() {
            return "Session[" + operator.describe() + ", started " + startedAt + "]";
        }
    }

    /** A session just begun: the secret goes into the browser's cookie and nowhere else. */
    record Started(String secret, Session session) {
        @Override
        public String toString() {
            return "Started[" + session + "]";
        }
    }

    /** Mints a single-use code that starts a session acting for {@code operator}. */
    public LoginCode issue(Actor operator) {
        Objects.requireNonNull(operator, "operator");
        if (operator instanceof Actor.Console) {
            throw new IllegalArgumentException("a console session cannot mint login codes; run sigil console as an admin");
        }
        Instant now = clock.instant();
        codes.values().removeIf(pending -> !now.isBefore(pending.expiresAt()));
        while (codes.size() >= MAX_ENTRIES) {
            codes.entrySet().stream().min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Pending::expiresAt)))
                    .ifPresent(oldest -> codes.remove(oldest.getKey()));
        }
        String code = secret();
        Instant expiresAt = now.plus(CODE_TTL);
        events.codeIssued(operator, expiresAt);
        codes.put(hash(code), new Pending(operator, expiresAt));
        return new LoginCode(code, expiresAt);
    }

    /** Redeems {@code code} once; empty when it is unknown, used or expired. */
    Optional<Started> redeem(String code) {
        if (code == null || code.isEmpty()) {
            return Optional.empty();
        }
        Pending pending = codes.remove(hash(code));
        Instant now = clock.instant();
        if (pending == null || !now.isBefore(pending.expiresAt())) {
            return Optional.empty();
        }
        sessions.values().removeIf(session -> expired(session, now));
        while (sessions.size() >= MAX_ENTRIES) {
            sessions.entrySet().stream().min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Session::lastSeen)))
                    .ifPresent(idlest -> sessions.remove(idlest.getKey()));
        }
        events.sessionStarted(pending.operator());
        String secret = secret();
        Session session = new Session(pending.operator(), secret(), now, now);
        sessions.put(hash(secret), session);
        return Optional.of(new Started(secret, session));
    }

    /** The live session for a cookie's {@code secret}, its idle time restarted; empty (and forgotten) when ended. */
    Optional<Session> find(String secret) {
        if (secret == null || secret.isEmpty()) {
            return Optional.empty();
        }
        String key = hash(secret);
        Instant now = clock.instant();
        Session found = sessions.computeIfPresent(key, (k, session) ->
                expired(session, now) ? null : new Session(session.operator(), session.csrfToken(), session.startedAt(), now));
        return Optional.ofNullable(found);
    }

    /** Ends the session of {@code secret}; a no-op when there is none. */
    void end(String secret) {
        if (secret != null && !secret.isEmpty()) {
            sessions.remove(hash(secret));
        }
    }

    private static boolean expired(Session session, Instant now) {
        return !now.isBefore(session.lastSeen().plus(IDLE_TIMEOUT)) || !now.isBefore(session.startedAt().plus(ABSOLUTE_TIMEOUT));
    }

    private record Pending(Actor operator, Instant expiresAt) {
    }

    private String secret() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static String hash(String secret) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("sha-256 is not available", e);
        }
    }
}
