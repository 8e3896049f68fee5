package dev.sigil.server.authority;

/** What an authority signs: X.509-SVIDs (a CA certificate and its key) or JWT-SVIDs (a signing key). */
public enum AuthorityKind {
    X509("x509"),
    JWT("jwt");

    private final String storedName;

    AuthorityKind(String storedName) {
        this.storedName = storedName;
    }

    /** The name stored in the journal and shown to operators. */
    public String storedName() {
        return storedName;
    }

    static AuthorityKind fromStored(String name) {
        for (AuthorityKind kind : values()) {
            if (kind.storedName.equals(name)) {
                return kind;
            }
        }
        throw new AuthorityException("journal holds unknown authority kind '" + name + "'; valid: x509, jwt");
    }
}
