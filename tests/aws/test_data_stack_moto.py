"""The data stack's network through moto's CloudFormation.

moto 5.2.5 models the VPC, subnets, route tables, NAT and internet gateways, the S3 gateway
endpoint and security groups (with their separate ingress rules), so those are deployed
from infra/cloudformation/data.yaml itself and checked through the EC2 API. The database,
cache, broker and user pool are beyond it (so is ``Fn::Cidr``: the subnets' ranges are
parameters); cfn-lint and the template tests cover those.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cfnlint.decode.cfn_yaml import loads
from moto import mock_aws
from moto.cloudformation.parsing import get_model_map

from infra.stacks import DATA_TEMPLATE

STACK = "cinema-ticketing-prod-data"
NOT_MODELLED_BY_MOTO = {
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::ElastiCache::SubnetGroup",
    "AWS::MSK::Cluster",
    "AWS::MSK::Configuration",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBProxy",
    "AWS::RDS::DBProxyTargetGroup",
    "AWS::SecretsManager::Secret",
    "Custom::BootstrapBrokers",
}


def data_template() -> dict[str, Any]:
    return json.loads(json.dumps(loads(DATA_TEMPLATE.read_text())))


def network_template() -> dict[str, Any]:
    """The data stack's EC2 resources that moto models, as they are in data.yaml."""
    template = data_template()
    resources = {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"].startswith("AWS::EC2::") and resource["Type"] not in NOT_MODELLED_BY_MOTO
    }
    return {
        "AWSTemplateFormatVersion": template["AWSTemplateFormatVersion"],
        "Parameters": {
            k: template["Parameters"][k]
            for k in ("Stage", "VpcCidr", "PrivateSubnetACidr", "PrivateSubnetBCidr", "PublicSubnetACidr")
        },
        "Resources": resources,
        "Outputs": {k: template["Outputs"][k] for k in ("PrivateSubnetIds", "LambdaSecurityGroupId")},
    }


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield


def test_what_moto_does_not_model():
    """Guards the network test's reach: it deploys every resource of data.yaml that moto can,
    so a type moto learns (or one the template adds) must move out of NOT_MODELLED_BY_MOTO."""
    types = {resource["Type"] for resource in data_template()["Resources"].values()}
    modelled = set(get_model_map())
    assert types - modelled == NOT_MODELLED_BY_MOTO


def test_the_network_deploys_and_allows_only_the_needed_ingress(aws):
    cfn, ec2 = boto3.client("cloudformation"), boto3.client("ec2")
    cfn.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(network_template()),
        Parameters=[{"ParameterKey": "Stage", "ParameterValue": "prod"}],
    )
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"{STACK}-PrivateSubnetIds"] == outputs["PrivateSubnetIds"]

    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    }
    [vpc] = ec2.describe_vpcs(VpcIds=[physical["Vpc"]])["Vpcs"]
    assert vpc["CidrBlock"] == "10.40.0.0/16"

    private = outputs["PrivateSubnetIds"].split(",")
    subnets = ec2.describe_subnets(SubnetIds=private)["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2, "two Availability Zones"
    # The private subnets' only way out is the NAT gateway; S3 goes through its endpoint.
    [private_routes] = ec2.describe_route_tables(RouteTableIds=[physical["PrivateRouteTable"]])["RouteTables"]
    default = [r for r in private_routes["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert [r.get("NatGatewayId") for r in default] == [physical["NatGateway"]]
    # moto creates the SubnetRouteTableAssociation resources but its EC2 API does not show
    # them on the route table (measured with moto 5.2.5): their presence is what can be checked.
    assert {"PrivateSubnetARoutes", "PrivateSubnetBRoutes", "PublicSubnetARoutes"} <= set(physical)
    [endpoint] = ec2.describe_vpc_endpoints(VpcEndpointIds=[physical["S3GatewayEndpoint"]])["VpcEndpoints"]
    assert endpoint["ServiceName"] == "com.amazonaws.eu-west-1.s3" and endpoint["VpcEndpointType"] == "Gateway"
    [nat] = ec2.describe_nat_gateways(NatGatewayIds=[physical["NatGateway"]])["NatGateways"]
    assert nat["SubnetId"] == physical["PublicSubnetA"]

    def ingress(logical: str) -> set[tuple[int, str]]:
        [group] = ec2.describe_security_groups(GroupIds=[physical[logical]])["SecurityGroups"]
        rules = set()
        for permission in group["IpPermissions"]:
            assert not permission.get("IpRanges"), (logical, permission)  # never from an address range
            for pair in permission["UserIdGroupPairs"]:
                rules.add((permission["FromPort"], pair["GroupId"]))
        return rules

    lambdas = physical["LambdaSecurityGroup"]
    assert ingress("LambdaSecurityGroup") == set()
    assert ingress("ProxySecurityGroup") == {(5432, lambdas)}
    assert ingress("DatabaseSecurityGroup") == {(5432, physical["ProxySecurityGroup"])}
    assert ingress("CacheSecurityGroup") == {(6379, lambdas)}
    assert ingress("KafkaSecurityGroup") == {(9098, lambdas), (9098, physical["KafkaSecurityGroup"])}
    assert outputs["LambdaSecurityGroupId"] == lambdas
