#include "client/config.h"

#include <gtest/gtest.h>

namespace orderflow::client {
namespace {

Environment base_env() {
  return {{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
          {"AWS_SECRET_ACCESS_KEY", "secret"},
          {"AWS_REGION", "eu-west-1"}};
}

TEST(ClientConfig, ReadsCredentialsAndRegionFromTheEnvironment) {
  auto env = base_env();
  env["AWS_SESSION_TOKEN"] = "token";
  auto c = resolve_config(env);
  ASSERT_TRUE(c.has_value()) << c.error().message;
  EXPECT_EQ(c->credentials.access_key, "AKIDEXAMPLE");
  EXPECT_EQ(c->credentials.secret_key, "secret");
  EXPECT_EQ(c->credentials.session_token, "token");
  EXPECT_EQ(c->region, "eu-west-1");
  EXPECT_EQ(c->retry.max_attempts, 3);
}

TEST(ClientConfig, DefaultsToTheRegionalAwsEndpoints) {
  auto c = resolve_config(base_env());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->endpoint_for("dynamodb"), "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(c->endpoint_for("sns"), "https://sns.eu-west-1.amazonaws.com");
  EXPECT_EQ(c->endpoint_for("sqs"), "https://sqs.eu-west-1.amazonaws.com");
  auto env = base_env();
  env["AWS_REGION"] = "cn-north-1";
  EXPECT_EQ(resolve_config(env)->endpoint_for("dynamodb"), "https://dynamodb.cn-north-1.amazonaws.com.cn");
}

TEST(ClientConfig, RegionFallsBackToAwsDefaultRegion) {
  auto env = base_env();
  env.erase("AWS_REGION");
  env["AWS_DEFAULT_REGION"] = "us-west-2";
  EXPECT_EQ(resolve_config(env)->region, "us-west-2");
  env["AWS_REGION"] = "ap-south-1";
  EXPECT_EQ(resolve_config(env)->region, "ap-south-1");  // AWS_REGION wins
}

TEST(ClientConfig, RequiresCredentialsAndRegion) {
  for (const char* name : {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"}) {
    auto env = base_env();
    env.erase(name);
    auto c = resolve_config(env);
    ASSERT_FALSE(c.has_value()) << name;
    EXPECT_EQ(c.error().kind, ClientError::Kind::config);
  }
  auto env = base_env();
  env.erase("AWS_REGION");
  EXPECT_EQ(resolve_config(env).error().message, "no region: set AWS_REGION or AWS_DEFAULT_REGION");
}

TEST(ClientConfig, ServiceEndpointVariableWinsOverTheGlobalOne) {
  auto env = base_env();
  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566";
  env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://localhost:8000";
  env["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"] = "http://localhost:9000";
  auto c = resolve_config(env);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->endpoint_for("dynamodb"), "http://localhost:8000");
  EXPECT_EQ(c->endpoint_for("logs"), "http://localhost:9000");
  EXPECT_EQ(c->endpoint_for("sns"), "http://127.0.0.1:4566");
  EXPECT_EQ(c->endpoint_for("sqs"), "http://127.0.0.1:4566");
}

TEST(ClientConfig, EachServiceHasItsOwnEndpointVariable) {
  auto env = base_env();
  env["AWS_ENDPOINT_URL_SNS"] = "http://sns.local:1";
  env["AWS_ENDPOINT_URL_SQS"] = "http://sqs.local:2";
  auto c = resolve_config(env);
  EXPECT_EQ(c->endpoint_for("sns"), "http://sns.local:1");
  EXPECT_EQ(c->endpoint_for("sqs"), "http://sqs.local:2");
  EXPECT_EQ(c->endpoint_for("dynamodb"), "https://dynamodb.eu-west-1.amazonaws.com");
  EXPECT_EQ(endpoint_env_suffix("dynamodb"), "DYNAMODB");
  EXPECT_EQ(endpoint_env_suffix("logs"), "CLOUDWATCH_LOGS");
  EXPECT_EQ(endpoint_env_suffix("secrets-manager"), "SECRETS_MANAGER");
}

TEST(ClientConfig, IgnoreConfiguredEndpointUrlsDisablesTheVariables) {
  auto env = base_env();
  env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566";
  env["AWS_ENDPOINT_URL_DYNAMODB"] = "http://localhost:8000";
  env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  EXPECT_EQ(resolve_config(env)->endpoint_for("dynamodb"), "https://dynamodb.eu-west-1.amazonaws.com");
}

TEST(ClientConfig, RejectsUnusableEndpointUrls) {
  for (const char* bad : {"localhost:4566", "ftp://x", "http://", "http://h:0", "http://h:99999",
                          "http://h:x", "http://u@h", "http://h?x=1"}) {
    auto env = base_env();
    env["AWS_ENDPOINT_URL"] = bad;
    EXPECT_FALSE(resolve_config(env).has_value()) << bad;
  }
}

TEST(ClientConfig, ReadsMaxAttemptsAndCaBundle) {
  auto env = base_env();
  env["AWS_MAX_ATTEMPTS"] = "5";
  env["AWS_CA_BUNDLE"] = "/etc/pki/tls/certs/ca-bundle.crt";
  auto c = resolve_config(env);
  EXPECT_EQ(c->retry.max_attempts, 5);
  EXPECT_EQ(c->ca_file, "/etc/pki/tls/certs/ca-bundle.crt");
  env["AWS_MAX_ATTEMPTS"] = "0";
  EXPECT_FALSE(resolve_config(env).has_value());
}

TEST(Endpoint, ParsesSchemeHostPortAndBasePath) {
  auto e = parse_endpoint("http://127.0.0.1:4566/");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->scheme, "http");
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 4566);
  EXPECT_EQ(e->base_path, "");
  EXPECT_EQ(e->host_header(), "127.0.0.1:4566");
  EXPECT_EQ(e->url("/"), "http://127.0.0.1:4566/");

  auto aws = parse_endpoint("https://dynamodb.us-east-1.amazonaws.com");
  EXPECT_EQ(aws->port, 443);
  EXPECT_EQ(aws->host_header(), "dynamodb.us-east-1.amazonaws.com");

  auto v6 = parse_endpoint("http://[::1]:8080/base/");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->base_path, "/base");
  EXPECT_EQ(v6->url("/"), "http://[::1]:8080/base/");
}

}  // namespace
}  // namespace orderflow::client
