// Starts DynamoDB Local bound to one address (default 127.0.0.1).
//
// DynamoDB Local's own main (ServerRunner) builds Jetty with new Server(port), which listens on
// every interface, and has no option to choose the address. This launcher builds the server with
// ServerRunner's own argument parsing, sets the host of its Jetty connectors, then starts it.
// Compiled by infra/scripts/install-deps.sh into .local/dynamodb-launcher; run with
//   java -Djava.library.path=<dynamodb>/DynamoDBLocal_lib \
//        -cp <launcher dir>:<dynamodb>/DynamoDBLocal.jar LoopbackDynamoDBLocal -inMemory -port N ...
// System property dynamodb.local.host overrides the address.
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

public final class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("dynamodb.local.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        int bound = 0;
        for (Connector c : server.getConnectors()) {
            if (c instanceof ServerConnector) {
                ((ServerConnector) c).setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            System.err.println("LoopbackDynamoDBLocal: no Jetty ServerConnector found; refusing to listen on every interface");
            System.exit(2);
        }
        System.out.println("LoopbackDynamoDBLocal: listening on " + host);
        proxy.start(); // Jetty's non-daemon threads keep the JVM running
    }
}
