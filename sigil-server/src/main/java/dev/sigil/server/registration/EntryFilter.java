package dev.sigil.server.registration;

import dev.sigil.core.selector.Selector;
import dev.sigil.core.spiffeid.SpiffeId;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/** Which entries a listing returns: every present criterion must match. {@link #all()} matches everything. */
public record EntryFilter(
        Optional<SpiffeId> spiffeId, Optional<SpiffeId> parentId, Optional<SelectorMatch> selectors, Optional<String> owner) {

    public EntryFilter {
        Objects.requireNonNull(spiffeId, "spiffeId");
        Objects.requireNonNull(parentId, "parentId");
        Objects.requireNonNull(selectors, "selectors");
        Objects.requireNonNull(owner, "owner");
    }

    /** How an entry's selector set S relates to the filter's set F. */
    public enum MatchMode {
        /** S equals F. */
        EXACT,
        /** S is a subset of F: the entry applies to a workload with selectors F (what an agent asks). */
        SUBSET,
        /** S contains all of F. */
        SUPERSET
    }

    /** A selector criterion: a non-empty set of at most {@value #MAX_SELECTORS} selectors, deduplicated and sorted. */
    public record SelectorMatch(MatchMode mode, List<Selector> selectors) {
        public static final int MAX_SELECTORS = 1000;

        public SelectorMatch {
            Objects.requireNonNull(mode, "mode");
            if (selectors == null || selectors.isEmpty()) {
                throw RegistrationException.invalid("selector filter has no selectors; give at least one");
            }
            selectors = List.copyOf(new TreeSet<>(selectors));
            if (selectors.size() > MAX_SELECTORS) {
                throw RegistrationException.invalid("selector filter has " + selectors.size() + " selectors; at most "
                        + MAX_SELECTORS + " are allowed");
            }
        }
    }

    public static EntryFilter all() {
        return new EntryFilter(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public EntryFilter withSpiffeId(SpiffeId value) {
        return new EntryFilter(Optional.of(value), parentId, selectors, owner);
    }

    public EntryFilter withParentId(SpiffeId value) {
        return new EntryFilter(spiffeId, Optional.of(value), selectors, owner);
    }

    public EntryFilter withSelectors(MatchMode mode, Collection<Selector> value) {
        return new EntryFilter(spiffeId, parentId, Optional.of(new SelectorMatch(mode, List.copyOf(value))), owner);
    }

    public EntryFilter withOwner(String value) {
        return new EntryFilter(spiffeId, parentId, selectors, Optional.of(value));
    }
}
