package dev.sigil.server.registration;

import java.util.Objects;
import java.util.Optional;

/** Which page of a listing to return: up to {@code size} items after the position {@code token} names. */
public record PageRequest(int size, Optional<String> token) {
    public static final int MAX_SIZE = 1000;

    public PageRequest {
        if (size < 1 || size > MAX_SIZE) {
            throw RegistrationException.invalid("page size is " + size + "; it must be between 1 and " + MAX_SIZE);
        }
        Objects.requireNonNull(token, "token");
    }

    public static PageRequest first(int size) {
        return new PageRequest(size, Optional.empty());
    }

    /** The page after the one that returned {@code token} as its next-page token. */
    public static PageRequest next(String token, int size) {
        return new PageRequest(size, Optional.of(token));
    }
}
