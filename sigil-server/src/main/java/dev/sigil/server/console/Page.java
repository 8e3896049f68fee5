package dev.sigil.server.console;

import dev.sigil.core.Printable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What one console page shows, handed to the {@code page.jte} template (public because the precompiled
 * template classes live in their own package). Every text here came from the admin API and may be an
 * attacker's (a selector, an owner, an audit detail): the template escapes it, and the factories below
 * clip it and replace control characters. Nothing here may hold a secret; the admin API's answers the
 * console reads carry none.
 */
public record Page(String title, String path, Optional<SignedIn> session, Optional<String> notice, List<Section> sections) {
    /** Longest text of one cell, fact or message before it is clipped. */
    static final int MAX_TEXT = 300;

    public Page {
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(notice, "notice");
        sections = List.copyOf(sections);
    }

    /** The navigation, in order. */
    public static final List<Link> NAV = List.of(
            new Link("/console/", "Overview"), new Link("/console/inventory", "Identities"), new Link("/console/agents", "Agents"),
            new Link("/console/leases", "Leases"), new Link("/console/tasks", "Tasks"), new Link("/console/drift", "Drift"),
            new Link("/console/audit", "Audit"), new Link("/console/policy", "Policy"), new Link("/console/posture", "Posture"));

    public record Link(String path, String label) {
    }

    /** The signed-in operator as shown, and the session's CSRF token for every form. */
    public record SignedIn(String actor, String csrf) {
        @Override
        public String toString() {
            return "SignedIn[" + actor + "]";
        }
    }

    /** One block of a page. */
    public sealed interface Section permits Facts, Table, Form, Text {
    }

    /** Labelled values, e.g. counts. {@code key} names each for scripts and tests ({@code data-key}). */
    public record Facts(String heading, List<Fact> facts) implements Section {
        public Facts {
            facts = List.copyOf(facts);
        }
    }

    public record Fact(String key, String label, String value) {
        public Fact {
            value = clipped(value);
        }
    }

    /** Rows of cells, each row with its buttons; {@code empty} is shown when there are no rows. */
    public record Table(String id, String heading, List<String> columns, List<Row> rows, String empty) implements Section {
        public Table {
            columns = List.copyOf(columns);
            rows = List.copyOf(rows);
        }

        public boolean hasActions() {
            return rows.stream().anyMatch(row -> !row.actions().isEmpty());
        }
    }

    public record Row(List<String> cells, List<Action> actions) {
        public Row {
            cells = cells.stream().map(Page::clipped).toList();
            actions = List.copyOf(actions);
        }
    }

    /** A POST button: the session's CSRF token is added by the template; {@code confirm} is asked first. */
    public record Action(String path, String label, Map<String, String> fields, String confirm) {
        public Action {
            fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }
    }

    /** A form; a POST form carries the CSRF token. */
    public record Form(String id, String heading, String path, String method, List<Field> fields, String submit) implements Section {
        public Form {
            fields = List.copyOf(fields);
        }

        public boolean post() {
            return method.equals("post");
        }
    }

    public record Field(String name, String label, String value, String placeholder) {
        public Field {
            value = value == null ? "" : Printable.clip(value, MAX_TEXT);
        }
    }

    /** A paragraph, or preformatted text (a policy document), shown with {@code tone} (info, ok, bad). */
    public record Text(String id, String heading, String text, boolean preformatted, String tone) implements Section {
        public Text {
            text = preformatted ? Objects.requireNonNullElse(text, "") : clipped(text);
        }
    }

    static String clipped(String value) {
        return value == null ? "" : Printable.clip(value, MAX_TEXT);
    }
}
