package dev.sigil.cli;

/** How client commands print results: for people ({@code text}) or the server's JSON as is ({@code json}). */
public enum OutputFormat {
    text, json
}
