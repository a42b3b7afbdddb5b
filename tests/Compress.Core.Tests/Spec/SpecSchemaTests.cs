using Compress.Core.Spec;
using YamlDotNet.RepresentationModel;

namespace Compress.Core.Tests.Spec;

/// <summary>compress.schema.yaml is a JSON Schema 2020-12 that documents exactly what the loader accepts.</summary>
public sealed class SpecSchemaTests
{
    private YamlMappingNode schema = null!;

    [OneTimeSetUp]
    public void LoadSchema()
    {
        var stream = new YamlStream();
        using (var text = new StreamReader(TestPaths.SchemaFile))
        {
            stream.Load(text);
        }

        Assert.That(stream.Documents, Has.Count.EqualTo(1));
        schema = (YamlMappingNode)stream.Documents[0].RootNode;
    }

    [Test]
    public void SchemaDeclaresJsonSchema202012WithIdAndTitle()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Text(schema, "$schema"), Is.EqualTo("https://json-schema.org/draft/2020-12/schema"));
            Assert.That(Text(schema, "$id"), Is.Not.Empty);
            Assert.That(Text(schema, "title"), Does.Contain("compress.yaml"));
            Assert.That(Text(schema, "type"), Is.EqualTo("object"));
        });
    }

    [Test]
    public void TopLevelPropertiesAreExactlyTheLoadersKeys() =>
        Assert.That(PropertyNames(schema), Is.EqualTo(SpecKeys.TopLevel));

    [Test]
    public void ModelPropertiesAreExactlyTheLoadersKeys() =>
        Assert.That(PropertyNames(Definition("model")), Is.EqualTo(SpecKeys.Model));

    [Test]
    public void PassNamesAreExactlyTheLoadersPasses() =>
        Assert.That(PropertyNames(Definition("pass")), Is.EqualTo(SpecKeys.PassKinds));

    [Test]
    public void QuantizePropertiesAreExactlyTheLoadersOptions() =>
        Assert.That(PropertyNames(Definition("quantize")), Is.EqualTo(SpecKeys.QuantizeOptions));

    [Test]
    public void RequiredKeysMatchTheLoader()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Strings(schema, "required"), Is.EqualTo(new[] { SpecKeys.Version, SpecKeys.Models }));
            Assert.That(Strings(Definition("model"), "required"), Is.EqualTo(new[] { SpecKeys.Name, SpecKeys.Source }));
            Assert.That(Strings(Definition("quantize"), "required"), Is.EqualTo(new[] { SpecKeys.Mode }));
        });
    }

    [Test]
    public void EnumsListExactlyTheAcceptedSpellings()
    {
        YamlMappingNode quantize = Properties(Definition("quantize"));
        var weightTypeChoices = (YamlSequenceNode)((YamlMappingNode)quantize[SpecKeys.WeightType])["anyOf"];
        Assert.Multiple(() =>
        {
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.Mode], "enum"), Is.EqualTo(SpecKeys.Modes.Select(m => m.Key)));
            Assert.That(Strings((YamlMappingNode)weightTypeChoices[0], "enum"), Is.EqualTo(SpecKeys.QuantTypes.Select(t => t.Key)));
        });
    }

    [Test]
    public void DefaultsMatchTheTypedDefaults()
    {
        var defaults = new QuantizePassSpec();
        YamlMappingNode quantize = Properties(Definition("quantize"));
        Assert.Multiple(() =>
        {
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.PerChannel], "default"), Is.EqualTo(defaults.PerChannel ? "true" : "false"));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.ReduceRange], "default"), Is.EqualTo(defaults.ReduceRange ? "true" : "false"));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.WeightType], "default"), Is.EqualTo(defaults.WeightType.ToString()));
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.OpTypesToQuantize], "default"), Is.EqualTo(defaults.OpTypesToQuantize));
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.NodesToQuantize], "default"), Is.Empty);
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.NodesToExclude], "default"), Is.Empty);
        });
    }

    [Test]
    public void EveryPropertyHasADescriptionAndEveryObjectIsClosed()
    {
        var problems = new List<string>();
        foreach (var (where, objectSchema) in ObjectSchemas())
        {
            if (Text(objectSchema, "additionalProperties") != "false")
            {
                problems.Add($"{where}: additionalProperties is not false");
            }

            foreach (var (name, property) in Properties(objectSchema).Children)
            {
                var propertySchema = (YamlMappingNode)property;
                if (!propertySchema.Children.ContainsKey("description") && !propertySchema.Children.ContainsKey("$ref"))
                {
                    problems.Add($"{where}.{name}: no description");
                }
            }
        }

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void EveryReferenceNamesADefinition()
    {
        var definitions = (YamlMappingNode)schema["$defs"];
        List<string> references = schema.AllNodes
            .OfType<YamlMappingNode>()
            .SelectMany(m => m.Children)
            .Where(pair => pair.Key is YamlScalarNode { Value: "$ref" })
            .Select(pair => ((YamlScalarNode)pair.Value).Value!)
            .ToList();

        Assert.That(references, Is.Not.Empty);
        Assert.That(references, Has.All.StartsWith("#/$defs/"));
        Assert.That(references.Select(r => r["#/$defs/".Length..]), Has.All.Matches<string>(name => definitions.Children.ContainsKey(name)));
    }

    [Test]
    public void SchemaExamplesLoadWithoutErrors()
    {
        using var workspace = new SpecWorkspace();
        var examples = (YamlSequenceNode)schema["examples"];
        Assert.That(examples.Children, Is.Not.Empty);
        foreach (YamlNode example in examples)
        {
            // Re-emit the example as YAML text and load it like a user's file.
            var document = new YamlStream(new YamlDocument(example));
            using var text = new StringWriter();
            document.Save(text, assignAnchors: false);

            SpecLoadResult result = workspace.Parse(text.ToString());

            Assert.That(result.Diagnostics, Is.Empty, () => text + string.Join('\n', result.Diagnostics));
        }
    }

    private static string Text(YamlMappingNode mapping, string key) =>
        mapping.Children.TryGetValue(key, out YamlNode? value) ? ((YamlScalarNode)value).Value ?? string.Empty : string.Empty;

    private static List<string> Strings(YamlMappingNode mapping, string key) =>
        ((YamlSequenceNode)mapping[key]).Children.Select(n => ((YamlScalarNode)n).Value!).ToList();

    private static YamlMappingNode Properties(YamlMappingNode objectSchema) => (YamlMappingNode)objectSchema["properties"];

    private static List<string> PropertyNames(YamlMappingNode objectSchema) =>
        Properties(objectSchema).Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList();

    private YamlMappingNode Definition(string name) => (YamlMappingNode)((YamlMappingNode)schema["$defs"])[name];

    private IEnumerable<(string Where, YamlMappingNode Schema)> ObjectSchemas()
    {
        yield return ("(root)", schema);
        foreach (var (name, definition) in ((YamlMappingNode)schema["$defs"]).Children)
        {
            yield return ($"$defs.{name}", (YamlMappingNode)definition);
        }
    }
}
