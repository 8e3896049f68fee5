package dev.sigil.agent.workload;

import dev.sigil.testkit.Eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sigil.agent.workload.FakeWorkloadIdentities.Entry;
import dev.sigil.proto.workload.SpiffeWorkloadAPIGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * A request whose payload is not a valid protobuf message, sent as a real gRPC frame over the agent's
 * socket (a client whose request marshaller writes raw bytes): the caller gets INVALID_ARGUMENT and the
 * agent logs one warning line, never a stack trace.
 */
class MalformedRequestTest {
    /** A length-delimited field whose length runs past the end of the message; then a control character. */
    private static final byte[] MALFORMED = {0x0a, 0x7f, 'a', 0x1b, '[', '2', 'J'};

    @TempDir
    Path dir;

    private WorkloadApiFixture fixture;
    private ManagedChannel channel;
    private final List<LogRecord> julRecords = new CopyOnWriteArrayList<>();
    private final Handler julCapture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            julRecords.add(record);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void start() {
        java.util.logging.Logger.getLogger("").addHandler(julCapture);
        logged.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logged);
        fixture = WorkloadApiFixture.real(dir);
        fixture.identities.setEntries(new Entry(Set.of(WorkloadApiFixture.ownUid()), fixture.domain.x509("/billing")));
        channel = fixture.channel();
    }

    @AfterEach
    void stop() throws InterruptedException {
        WorkloadApiFixture.shutdown(channel);
        fixture.close();
        java.util.logging.Logger.getLogger("").removeHandler(julCapture);
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logged);
    }

    @Test
    void malformedJwtSvidRequestIsInvalidArgumentAndLoggedAsOneLine() throws Exception {
        MethodDescriptor<byte[], byte[]> raw = raw(SpiffeWorkloadAPIGrpc.getFetchJWTSVIDMethod());

        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(ClientInterceptors.intercept(channel, WorkloadApiFixture.securityHeader()),
                        raw, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), MALFORMED))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("JWTSVIDRequest");
                });
        // the refusal's log line is written before the answer: wait for it, not for a guessed time
        Eventually.within(java.time.Duration.ofSeconds(5), () -> assertThat(logged.list)
                .anyMatch(event -> event.getFormattedMessage().contains("malformed")));
        assertThat(julRecords).noneMatch(record -> record.getThrown() != null);
        assertThat(julRecords).noneMatch(record -> record.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue());
        assertThat(logged.list).noneMatch(event -> event.getThrowableProxy() != null);
        assertThat(logged.list).filteredOn(event -> event.getFormattedMessage().contains("malformed"))
                .singleElement()
                .satisfies(event -> assertThat(event.getFormattedMessage()).doesNotContain("\u001b").doesNotContain("\n"));
    }

    /** The method with a marshaller that sends and receives raw bytes. */
    private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> method) {
        MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
            @Override
            public InputStream stream(byte[] value) {
                return new ByteArrayInputStream(value);
            }

            @Override
            public byte[] parse(InputStream stream) {
                try {
                    return stream.readAllBytes();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        };
        return method.toBuilder(bytes, bytes).build();
    }
}
