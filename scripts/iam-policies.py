#!/usr/bin/env python3
"""Each Lambda function's IAM policy, as infra/template.yaml states it, made real
on a local AWS that enforces IAM (fakecloud with `--iam strict`).

The template is translated by AWS SAM's own translator (`samtranslator`, the code
`sam build` and CloudFormation run), which expands the policy templates
(`SSMParameterReadPolicy`, …) into each function's role. The intrinsic functions
left in the policies (`!GetAtt Table.Arn`, `!Sub …`, `!Ref Bucket`) are resolved
against the names given on the command line; nothing is copied by hand. Then, for
each function, an IAM user holding exactly its role's policies and an access key
are created on the emulator, and a JSON file says, per function binary:

    {"sesame-auth": {"resource": "AuthFunction", "access_key_id": …,
                     "secret_access_key": …, "routes": [["POST", "/v1/auth/login"], …],
                     "policies": [{…the resolved policy document…}]}}

The tests sign each function's requests with its own key, and route each request
to the function the template's HTTP API sends it to.

What the emulator cannot evaluate (the bucket's resource policy, SES's identity
policies) goes to `--resources-out`: the bucket's policy and the names the
functions send mail with, resolved the same way, for scripts/iam-evaluate.mjs to
evaluate every call the functions made, offline.

Usage: iam-policies.py --endpoint URL --out FILE [--resources-out FILE] [--table NAME] [--bucket NAME]
       iam-policies.py --print [--table NAME]   (the resolved policies, no emulator)
"""

import argparse
import json
import os
import re
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform

TEMPLATE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "infra", "template.yaml")


class NoManagedPolicies:
    """The translator asks for AWS's managed policies by name only when a template
    names one; ours names none (AWSLambdaBasicExecutionRole is added by ARN)."""

    def load(self):
        return {}


def translate(path, region):
    # The translator names the region in ARNs it makes; no AWS call is made.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    template, matches = decode(path)
    if matches:
        sys.exit(f"iam-policies.py: {path} does not parse: {matches}")
    # As `sam package` leaves it: the code uploaded, the function naming its object.
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://sesame-artifacts/{name}.zip"
    return transform(template, {}, NoManagedPolicies())


class Names:
    """What the resolver says for `Ref`, `Fn::GetAtt` and `${…}` in a policy."""

    def __init__(self, template, args):
        self.template = template
        self.region = args.region
        self.account = args.account
        self.refs = {
            "AWS::Region": args.region,
            "AWS::AccountId": args.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "sesame",
        }
        for name, parameter in template.get("Parameters", {}).items():
            if "Default" in parameter:
                self.refs[name] = parameter["Default"]
        self.refs["MailIdentity"] = args.mail_identity
        self.physical = {
            "Table": args.table,
            "FilesBucket": args.bucket,
            "MailConfigurationSet": args.configuration_set,
        }

    def resource(self, name):
        resources = self.template["Resources"]
        if name not in resources:
            raise KeyError(f"no resource or parameter named {name}")
        return resources[name]

    def ref(self, name):
        if name in self.refs:
            return self.refs[name]
        resource = self.resource(name)
        kind = resource["Type"]
        physical = self.physical.get(name) or name
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{physical}"
        if kind == "AWS::SNS::Topic":
            return self.arn(name, "Arn")
        return physical

    def arn(self, name, attribute):
        resource = self.resource(name)
        kind = resource["Type"]
        physical = self.physical.get(name) or name
        region, account = self.region, self.account
        if kind == "AWS::DynamoDB::Table" and attribute == "Arn":
            return f"arn:aws:dynamodb:{region}:{account}:table/{physical}"
        if kind == "AWS::DynamoDB::Table" and attribute == "StreamArn":
            return f"arn:aws:dynamodb:{region}:{account}:table/{physical}/stream/*"
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{physical}"
        if kind == "AWS::SQS::Queue" and attribute == "Arn":
            return f"arn:aws:sqs:{region}:{account}:{physical}"
        if kind == "AWS::SNS::Topic":
            return f"arn:aws:sns:{region}:{account}:{physical}"
        if kind == "AWS::Logs::LogGroup" and attribute == "Arn":
            return f"arn:aws:logs:{region}:{account}:log-group:{physical}:*"
        raise KeyError(f"cannot name {name}.{attribute} ({kind})")

    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if list(value) == ["Ref"]:
            return self.ref(value["Ref"])
        if list(value) == ["Fn::GetAtt"]:
            target = value["Fn::GetAtt"]
            name, attribute = target if isinstance(target, list) else target.split(".", 1)
            return self.arn(name, attribute)
        if list(value) == ["Fn::Sub"]:
            sub = value["Fn::Sub"]
            text, local = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
            local = {k: self.resolve(v) for k, v in local.items()}

            def one(match):
                name = match.group(1)
                if name in local:
                    return str(local[name])
                if "." in name:
                    return self.arn(*name.split(".", 1))
                return str(self.ref(name))

            if "${!" in text:
                raise KeyError("a literal ${!…} in a policy: this resolver does not unescape it")
            return re.sub(r"\$\{([^}]+)\}", one, text)
        if list(value) == ["Fn::Join"]:
            separator, parts = value["Fn::Join"]
            return separator.join(str(p) for p in self.resolve(parts))
        if any(k.startswith("Fn::") for k in value):
            raise KeyError(f"{', '.join(value)} in a policy: this resolver does not know it")
        return {k: self.resolve(v) for k, v in value.items()}


def functions(sam, cfn):
    """Per function binary: its resource, its role's policies and its routes."""
    out = {}
    for name, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        binary = resource.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if not binary:
            sys.exit(f"iam-policies.py: {name} names no binary (Metadata.BuildProperties.Binary)")
        role = cfn["Resources"].get(f"{name}Role")
        if role is None:
            sys.exit(f"iam-policies.py: the translation made no role for {name}")
        documents = [p["PolicyDocument"] for p in role["Properties"].get("Policies", [])]
        # SAM writes its documents without a `Version`, which AWS reads as 2008-10-17
        # (the same but for policy variables, which ours do not use); fakecloud
        # refuses a document older than 2012-10-17, so it is said.
        documents = [{"Version": "2012-10-17", **d} for d in documents]
        routes = []
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes.append([event["Properties"]["Method"].upper(), event["Properties"]["Path"]])
        out[binary] = {"resource": name, "documents": documents, "routes": routes}
    return out


def resource_policies(source, names):
    """The files bucket's policy and the mail names, resolved as the functions' are."""
    policies = [
        r["Properties"]
        for r in source["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"].get("Bucket") == {"Ref": "FilesBucket"}
    ]
    if len(policies) != 1:
        sys.exit(f"iam-policies.py: the template has {len(policies)} policies of FilesBucket, not one")
    try:
        document = names.resolve(policies[0]["PolicyDocument"])
        configuration_set = names.ref("MailConfigurationSet")
    except KeyError as e:
        sys.exit(f"iam-policies.py: FilesBucketPolicy: {e}")
    return {
        "bucket": names.ref("FilesBucket"),
        "bucket_policy": document,
        "mail_identity": names.ref("MailIdentity"),
        "configuration_set": configuration_set,
        # As the functions' SESAME_DATA_KEY_PARAMETER names it.
        "data_key_parameter": names.resolve({"Fn::Sub": "/${DataKeyParameter}"}),
        "region": names.region,
        "account": names.account,
    }


# fakecloud 0.51 authorises some S3 requests under the name of their API operation,
# where AWS uses another action (HeadObject is s3:GetObject, ListObjectsV2 is
# s3:ListBucket, DeleteObjects is s3:DeleteObject per key). The emulator's copy of a
# policy that grants the AWS action also grants fakecloud's name for the same
# request, on the same resources (DeleteObjects: the bucket of the objects). The
# offline evaluation (scripts/iam-evaluate.mjs) checks the template's own actions,
# per object, so nothing is widened there.
FAKECLOUD_S3_NAMES = {
    "s3:GetObject": "s3:HeadObject",
    "s3:ListBucket": "s3:ListObjectsV2",
    "s3:DeleteObject": "s3:DeleteObjects",
}


def for_fakecloud(document):
    """`document` with fakecloud's names of the S3 actions it grants added."""
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    added = []
    for statement in statements:
        actions = statement.get("Action", [])
        actions = actions if isinstance(actions, list) else [actions]
        names = [FAKECLOUD_S3_NAMES[a] for a in actions if a in FAKECLOUD_S3_NAMES]
        if not names or statement.get("Effect") != "Allow":
            continue
        for name in names:
            alias = {k: v for k, v in statement.items() if k != "Sid"}
            alias["Action"] = name
            if name == "s3:DeleteObjects":
                resources = alias["Resource"] if isinstance(alias["Resource"], list) else [alias["Resource"]]
                alias["Resource"] = sorted({r.split("/", 1)[0] for r in resources})
            added.append(alias)
    return {**document, "Statement": statements + added}


def create_users(endpoint, region, resolved):
    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    for binary, function in resolved.items():
        user = f"{binary}-fn"
        try:
            iam.create_user(UserName=user)
        except iam.exceptions.EntityAlreadyExistsException:
            # A user of an earlier run: nothing of it may remain.
            for key in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
                iam.delete_user_policy(UserName=user, PolicyName=name)
        for index, document in enumerate(function["policies"]):
            iam.put_user_policy(
                UserName=user,
                PolicyName=f"{function['resource']}Policy{index}",
                PolicyDocument=json.dumps(for_fakecloud(document)),
            )
        key = iam.create_access_key(UserName=user)["AccessKey"]
        function["access_key_id"] = key["AccessKeyId"]
        function["secret_access_key"] = key["SecretAccessKey"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default=TEMPLATE)
    parser.add_argument("--endpoint", help="the emulator that enforces IAM")
    parser.add_argument("--out", help="where to write the functions' keys and policies")
    parser.add_argument("--print", action="store_true", help="print the resolved policies only")
    parser.add_argument("--table", default="sesame-*", help="the table's name (a pattern for the tests' tables)")
    parser.add_argument("--bucket", default="sesame-*", help="the files bucket's name")
    parser.add_argument("--mail-identity", default="sesame.test")
    parser.add_argument("--configuration-set", default="sesame-mail", help="the SES configuration set's name")
    parser.add_argument("--resources-out", help="where to write the resource policies and mail names")
    parser.add_argument("--region", default="eu-west-3")
    parser.add_argument("--account", default="123456789012")
    args = parser.parse_args()

    sam = translate(args.template, args.region)
    source, _ = decode(args.template)
    # The tests' table is a pattern (`sesame-*`), which in IAM also matches a table's
    # indexes and streams: refuse a template that has indexes rather than test a
    # policy wider than the one deployed.
    for name, resource in source["Resources"].items():
        if resource["Type"] == "AWS::DynamoDB::Table" and (
            resource["Properties"].get("GlobalSecondaryIndexes") or resource["Properties"].get("LocalSecondaryIndexes")
        ):
            sys.exit(f"iam-policies.py: {name} has indexes, which the pattern --table {args.table} would cover")
    names = Names(source, args)
    resolved = {}
    for binary, function in functions(source, sam).items():
        try:
            policies = names.resolve(function["documents"])
        except KeyError as e:
            sys.exit(f"iam-policies.py: {function['resource']}: {e}")
        resolved[binary] = {"resource": function["resource"], "routes": function["routes"], "policies": policies}

    resources = resource_policies(source, names)
    if args.print:
        json.dump({"functions": resolved, "resources": resources}, sys.stdout, indent=2)
        print()
        return
    if not (args.endpoint and args.out):
        sys.exit("iam-policies.py: --endpoint and --out, or --print")
    create_users(args.endpoint, args.region, resolved)
    with open(args.out, "w") as f:
        json.dump(resolved, f, indent=2)
    if args.resources_out:
        with open(args.resources_out, "w") as f:
            json.dump(resources, f, indent=2)
    print(f"iam-policies.py: {len(resolved)} functions, each with its own key, in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
