package dev.sigil.agent.workload;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers a request message that does not parse with INVALID_ARGUMENT. gRPC itself would log the
 * parse failure as an internal error with a stack trace and answer UNKNOWN; a client's malformed bytes
 * are a client mistake, so the agent logs one clipped warning line instead and closes only that call.
 * Well-formed requests reach the service unchanged.
 */
final class MalformedRequests {
    private static final Logger LOG = LoggerFactory.getLogger(MalformedRequests.class);
    private static final int MAX_REASON = 160;

    private static final MethodDescriptor.Marshaller<InputStream> UNPARSED = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(InputStream value) {
            return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
            return stream; // parsed in the call's listener, where a failure can be answered
        }
    };

    private MalformedRequests() {}

    /** {@code service} with every method's request parsed where a malformed one is answered INVALID_ARGUMENT. */
    static ServerServiceDefinition rejected(ServerServiceDefinition service) {
        ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
        for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
            builder.addMethod(guard(method));
        }
        return builder.build();
    }

    private static <Q, R> ServerMethodDefinition<InputStream, R> guard(ServerMethodDefinition<Q, R> definition) {
        MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
        MethodDescriptor<InputStream, R> unparsed = method.toBuilder(UNPARSED, method.getResponseMarshaller()).build();
        ServerCallHandler<Q, R> next = definition.getServerCallHandler();
        return ServerMethodDefinition.create(unparsed, (call, headers) -> {
            ServerCall.Listener<Q> listener = next.startCall(new Typed<>(call, method), headers);
            return new ServerCall.Listener<>() {
                private boolean rejected;

                @Override
                public void onMessage(InputStream message) {
                    if (rejected) {
                        return;
                    }
                    Q request;
                    try {
                        request = method.parseRequest(message);
                    } catch (RuntimeException e) {
                        rejected = true;
                        String reason = clip(innermost(e).getMessage());
                        LOG.warn("malformed {} request on the workload api: {}", method.getBareMethodName(), reason);
                        call.close(Status.INVALID_ARGUMENT.withDescription("request to " + method.getFullMethodName()
                                + " is not a valid " + messageName(method) + " message: " + reason), new Metadata());
                        return;
                    }
                    listener.onMessage(request);
                }

                @Override
                public void onHalfClose() {
                    if (!rejected) {
                        listener.onHalfClose();
                    }
                }

                @Override
                public void onCancel() {
                    listener.onCancel();
                }

                @Override
                public void onComplete() {
                    listener.onComplete();
                }

                @Override
                public void onReady() {
                    if (!rejected) {
                        listener.onReady();
                    }
                }
            };
        });
    }

    private static String messageName(MethodDescriptor<?, ?> method) {
        return method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> prototype
                ? prototype.getMessagePrototype().getClass().getSimpleName()
                : method.getBareMethodName() + " request";
    }

    private static Throwable innermost(Throwable e) {
        Throwable cause = e;
        while (cause.getCause() != null && cause.getCause() != cause) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** At most {@link #MAX_REASON} characters, control characters replaced: one log line, one status line. */
    static String clip(String text) {
        return text == null || text.isEmpty() ? "no reason given" : dev.sigil.core.Printable.clip(text, MAX_REASON);
    }

    /** The call as the service's handler expects it typed; everything is forwarded to the unparsed call. */
    private static final class Typed<Q, R> extends ServerCall<Q, R> {
        private final ServerCall<InputStream, R> call;
        private final MethodDescriptor<Q, R> method;

        Typed(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
            this.call = call;
            this.method = method;
        }

        @Override
        public void request(int numMessages) {
            call.request(numMessages);
        }

        @Override
        public void sendHeaders(Metadata headers) {
            call.sendHeaders(headers);
        }

        @Override
        public void sendMessage(R message) {
            call.sendMessage(message);
        }

        @Override
        public boolean isReady() {
            return call.isReady();
        }

        @Override
        public void close(Status status, Metadata trailers) {
            call.close(status, trailers);
        }

        @Override
        public boolean isCancelled() {
            return call.isCancelled();
        }

        @Override
        public void setMessageCompression(boolean enabled) {
            call.setMessageCompression(enabled);
        }

        @Override
        public void setCompression(String compressor) {
            call.setCompression(compressor);
        }

        @Override
        public void setOnReadyThreshold(int numBytes) {
            call.setOnReadyThreshold(numBytes);
        }

        @Override
        public SecurityLevel getSecurityLevel() {
            return call.getSecurityLevel();
        }

        @Override
        public Attributes getAttributes() {
            return call.getAttributes();
        }

        @Override
        public String getAuthority() {
            return call.getAuthority();
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return method;
        }
    }
}
