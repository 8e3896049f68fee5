package dev.sigil.core.observability;

import java.util.Locale;

/** How a server or agent writes its log: {@code text} (the default, for people) or {@code json} (one object a line, for collectors). */
public enum LogFormat {
    TEXT, JSON;

    public static LogFormat parse(String text) {
        for (LogFormat format : values()) {
            if (format.name().equalsIgnoreCase(text == null ? "" : text.trim())) {
                return format;
            }
        }
        throw new IllegalArgumentException("log format '" + text + "' is not valid; use text or json");
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
