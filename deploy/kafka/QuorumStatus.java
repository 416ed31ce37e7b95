// The KRaft quorum as the Admin API describes it (Admin.describeMetadataQuorum, KIP-836): the leader (the
// active controller), its epoch, each voter's and observer's log end offset. Kafka's jars carry the tool
// kafka-metadata-quorum in a module the broker does not need; this is the same call, run from its source:
//   java -cp "<kafka jars>/*" deploy/kafka/QuorumStatus.java <client properties file>
// The file names bootstrap.servers and the credentials (deploy/kafka/kafka_runner.py writes it). Needs a JDK
// (the source launcher compiles it in memory).
import java.io.FileReader;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.QuorumInfo;

public class QuorumStatus {
    public static void main(String[] args) throws Exception {
        Properties config = new Properties();
        try (FileReader file = new FileReader(args[0])) {
            config.load(file);
        }
        try (Admin admin = Admin.create(config)) {
            QuorumInfo quorum = admin.describeMetadataQuorum().quorumInfo().get();
            System.out.println("LeaderId: " + quorum.leaderId());
            System.out.println("LeaderEpoch: " + quorum.leaderEpoch());
            System.out.println("HighWatermark: " + quorum.highWatermark());
            for (QuorumInfo.ReplicaState voter : quorum.voters()) {
                System.out.println("Voter: " + voter.replicaId() + " " + voter.logEndOffset());
            }
            for (QuorumInfo.ReplicaState observer : quorum.observers()) {
                System.out.println("Observer: " + observer.replicaId() + " " + observer.logEndOffset());
            }
        }
    }
}
