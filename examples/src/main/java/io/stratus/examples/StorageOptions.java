package io.stratus.examples;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command keeps its state: the embedded S3 server's folder, or an S3 endpoint. */
final class StorageOptions {

  @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "data",
      description = "embedded S3 data, disk cache and log folder (default: ${DEFAULT-VALUE})")
  Path dataDir;

  @Option(names = "--s3-port", paramLabel = "N",
      description = "port of the embedded S3 server (default: any free one for demo; 9333 for "
          + "coordinator, so that workers find it again after a restart)")
  Integer s3Port;

  @Option(names = "--s3-endpoint", paramLabel = "URL",
      description = "use this S3 endpoint instead of the embedded server; credentials come "
          + "from the AWS default chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
          + "AWS_PROFILE, instance role)")
  String endpoint;

  @Option(names = "--bucket", paramLabel = "NAME",
      description = "bucket on that endpoint (required with --s3-endpoint)")
  String bucket;

  @Option(names = "--region", paramLabel = "NAME", defaultValue = "us-east-1",
      description = "signing region (default: ${DEFAULT-VALUE})")
  String region;

  @Option(names = "--prefix", paramLabel = "P",
      description = "key prefix in the bucket (default: stratus-demo/ for demo and "
          + "coordinator, store-demo/<time>/ for store-demo)")
  String prefix;

  @Option(names = "--virtual-host",
      description = "virtual-host addressing instead of path-style")
  boolean virtualHost;
}
