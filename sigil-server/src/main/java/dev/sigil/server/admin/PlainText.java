package dev.sigil.server.admin;

import java.util.Objects;

/** A reply body sent as {@code text/plain; charset=utf-8} instead of JSON (e.g. Prometheus metrics). */
public record PlainText(String text) {
    public PlainText {
        Objects.requireNonNull(text, "text");
    }
}
