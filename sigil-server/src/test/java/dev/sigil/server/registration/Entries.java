package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.util.Arrays;
import java.util.List;

/** Short ways to write test entries. */
final class Entries {
    static final SpiffeId NODE = SpiffeId.parse("spiffe://example.org/node/a");
    static final SpiffeId OTHER_NODE = SpiffeId.parse("spiffe://example.org/node/b");

    private Entries() {}

    static SpiffeId id(String path) {
        return SpiffeId.parse("spiffe://example.org" + path);
    }

    static List<Selector> selectors(String... selectors) {
        return Arrays.stream(selectors).map(Selector::parse).toList();
    }

    static EntryDraft draft(String path, String... selectors) {
        return EntryDraft.of(id(path), NODE, selectors(selectors), "team-payments");
    }
}
