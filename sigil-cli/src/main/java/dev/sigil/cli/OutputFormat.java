package dev.sigil.cli;

import java.util.Set;

/**
 * How client commands print results: for people ({@code text}) or the server's JSON as is ({@code json});
 * some commands offer more ({@code sigil inventory}: {@code table}, {@code csv}; {@code sigil report
 * posture}: {@code html}) and refuse what they do not offer (see {@link ClientCommand#outputs()}).
 */
public enum OutputFormat {
    text, json, table, csv, html;

    /** What most commands offer. */
    static final Set<OutputFormat> TEXT_AND_JSON = Set.of(text, json);
}
