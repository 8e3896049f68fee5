package dev.sigil.cli;

import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;

/**
 * A workload that asks the Workload API for its identity with the independent java-spiffe client,
 * run in its own process (possibly as another uid). Prints {@code ID <spiffe id>} for each SVID it
 * received, or {@code DENIED}/{@code ERROR} with the client's message.
 */
public final class SpiffeProbe {
    private SpiffeProbe() {
    }

    public static void main(String[] args) {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(args[0]).build())) {
            X509Context context = client.fetchX509Context();
            context.getX509Svids().forEach(svid -> System.out.println("ID " + svid.getSpiffeId()));
        } catch (Exception e) {
            String message = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " / " + e.getCause().getMessage());
            System.out.println((message.contains("PERMISSION_DENIED") ? "DENIED " : "ERROR ") + message);
        }
        System.exit(0);
    }
}
