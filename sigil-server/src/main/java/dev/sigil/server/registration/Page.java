package dev.sigil.server.registration;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** One page of a listing; {@code nextPageToken} is present when more items may follow. */
public record Page<T>(List<T> items, Optional<String> nextPageToken) {
    public Page {
        items = List.copyOf(items);
        Objects.requireNonNull(nextPageToken, "nextPageToken");
    }
}
