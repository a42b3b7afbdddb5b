using Compress.Core.Spec;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Tests.Evaluation;

/// <summary>compress.schema.yaml and docs/compress-yaml.md document exactly the evaluate keys the loader reads.</summary>
public sealed class EvaluateSchemaTests
{
    [Test]
    public void SchemaEvaluatePropertiesAreExactlyTheLoadersKeys()
    {
        var stream = new YamlStream();
        using (var text = new StreamReader(TestPaths.SchemaFile))
        {
            stream.Load(text);
        }

        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var evaluate = (YamlMappingNode)((YamlMappingNode)root.Children[new YamlScalarNode("$defs")]).Children[new YamlScalarNode("evaluate")];
        var properties = (YamlMappingNode)evaluate.Children[new YamlScalarNode("properties")];
        var onFailure = (YamlMappingNode)properties.Children[new YamlScalarNode("on_failure")];

        Assert.Multiple(() =>
        {
            Assert.That(properties.Children.Keys.Select(k => ((YamlScalarNode)k).Value), Is.EqualTo(EvaluateKeys.All));
            Assert.That(((YamlSequenceNode)onFailure.Children[new YamlScalarNode("enum")]).Select(n => ((YamlScalarNode)n).Value), Is.EqualTo(EvaluateKeys.FailureActions.Select(a => a.Key)));
        });
    }

    [Test]
    public void ReferenceDocumentsEveryEvaluateKeyAndCode()
    {
        string reference = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "compress-yaml.md"));
        string[] codes = ["CMP2001", "CMP2002", "CMP2003"];

        Assert.Multiple(() =>
        {
            foreach (string key in EvaluateKeys.All)
            {
                Assert.That(reference, Does.Contain($"| `{key}` |"), key);
            }

            foreach (string code in codes)
            {
                Assert.That(reference, Does.Contain($"| {code} |"), code);
            }
        });
    }
}
