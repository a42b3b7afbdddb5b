using System.Globalization;
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
    public void CalibrationPropertiesAreExactlyTheLoadersOptions() =>
        Assert.That(PropertyNames(Definition("calibration")), Is.EqualTo(SpecKeys.CalibrationOptions));

    [Test]
    public void ExtraOptionPropertiesAreExactlyTheSupportedOrtKeys() =>
        Assert.That(PropertyNames(Definition("extra_options")), Is.EqualTo(SpecKeys.ExtraOptionKeys));

    [Test]
    public void NodeOverridePropertiesAreExactlyTheLoadersOptions() =>
        Assert.That(PropertyNames(Definition("node_override")), Is.EqualTo(SpecKeys.NodeOverrideOptions));

    [Test]
    public void Float16AndCleanupPropertiesAreExactlyTheLoadersOptions()
    {
        Assert.Multiple(() =>
        {
            Assert.That(PropertyNames(Definition("float16")), Is.EqualTo(SpecKeys.Float16Options));
            Assert.That(PropertyNames(Definition("cleanup")), Is.EqualTo(SpecKeys.CleanupOptions));
        });
    }

    /// <summary>Each mode's if/then forbids exactly the keys the loader rejects for that mode (CMP0017).</summary>
    [TestCase("dynamic", QuantizationMode.Dynamic)]
    [TestCase("static", QuantizationMode.Static)]
    [TestCase("weight_only", QuantizationMode.WeightOnly)]
    public void ModeConditionsForbidExactlyTheKeysOfOtherModes(string word, QuantizationMode mode)
    {
        YamlMappingNode then = ThenForMode(word);
        List<string> forbidden = then.Children.TryGetValue("properties", out YamlNode? properties)
            ? ((YamlMappingNode)properties).Children.Where(p => p.Value is YamlScalarNode { Value: "false" }).Select(p => ((YamlScalarNode)p.Key).Value!).ToList()
            : [];
        List<string> rejected = SpecKeys.QuantizeOptions.Where(key => !SpecKeys.QuantizeOptionModes[key].Contains(mode)).ToList();

        Assert.That(forbidden, Is.EqualTo(rejected));
    }

    [Test]
    public void OnlyStaticRequiresCalibration()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Strings(ThenForMode("static"), "required"), Is.EqualTo(new[] { SpecKeys.Calibration }));
            Assert.That(ThenForMode("dynamic").Children.ContainsKey("required"), Is.False);
            Assert.That(ThenForMode("weight_only").Children.ContainsKey("required"), Is.False);
            Assert.That(Strings(Definition("calibration"), "required"), Is.EqualTo(new[] { SpecKeys.Data }));
            Assert.That(Strings(Definition("node_override"), "required"), Is.EqualTo(new[] { SpecKeys.Nodes }));
        });
    }

    [Test]
    public void DynamicModeAllowsExactlyTheEightBitWeightSpellings()
    {
        var weightType = (YamlMappingNode)((YamlMappingNode)ThenForMode("dynamic")["properties"])[SpecKeys.WeightType];
        var choices = (YamlSequenceNode)weightType["anyOf"];

        Assert.That(Strings((YamlMappingNode)choices[0], "enum"), Is.EqualTo(SpecKeys.EightBitQuantTypes.Select(t => t.Key)));
    }

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
        var quantTypeChoices = (YamlSequenceNode)Definition("quant_type")["anyOf"];
        var formatChoices = (YamlSequenceNode)((YamlMappingNode)quantize[SpecKeys.QuantFormat])["anyOf"];
        YamlMappingNode calibration = Properties(Definition("calibration"));
        Assert.Multiple(() =>
        {
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.Mode], "enum"), Is.EqualTo(SpecKeys.Modes.Select(m => m.Key)));
            Assert.That(Strings((YamlMappingNode)quantTypeChoices[0], "enum"), Is.EqualTo(SpecKeys.QuantTypes.Select(t => t.Key)));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.WeightType], "$ref"), Is.EqualTo("#/$defs/quant_type"));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.ActivationType], "$ref"), Is.EqualTo("#/$defs/quant_type"));
            Assert.That(Strings((YamlMappingNode)formatChoices[0], "enum"), Is.EqualTo(SpecKeys.QuantFormats.Select(f => f.Key)));
            Assert.That(Strings((YamlMappingNode)calibration[SpecKeys.Method], "enum"), Is.EqualTo(SpecKeys.CalibrationMethods.Select(m => m.Key)));
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.CalibrateMethod], "enum"), Is.EqualTo(SpecKeys.CalibrationMethods.Select(m => m.Key)));
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.Bits], "enum"), Is.EqualTo(SpecKeys.WeightOnlyBits.Select(b => b.ToString(CultureInfo.InvariantCulture))));
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
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.ActivationType], "default"), Is.EqualTo(defaults.ActivationType.ToString()));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.QuantFormat], "default"), Is.EqualTo(defaults.QuantFormat.ToString()));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.Bits], "default"), Is.EqualTo(Invariant(defaults.Bits)));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.BlockSize], "default"), Is.EqualTo(Invariant(defaults.BlockSize)));
            Assert.That(Text((YamlMappingNode)quantize[SpecKeys.Symmetric], "default"), Is.EqualTo(Bool(defaults.Symmetric)));
            Assert.That(Strings((YamlMappingNode)quantize[SpecKeys.NodeOverrides], "default"), Is.Empty);
        });
    }

    [Test]
    public void CalibrationAndExtraOptionDefaultsMatchTheTypedDefaults()
    {
        YamlMappingNode calibration = Properties(Definition("calibration"));
        YamlMappingNode extra = Properties(Definition("extra_options"));
        var defaults = new QuantizePassSpec();
        Assert.Multiple(() =>
        {
            Assert.That(Text((YamlMappingNode)calibration[SpecKeys.Method], "default"), Is.EqualTo("minmax"));
            Assert.That(Text((YamlMappingNode)calibration[SpecKeys.BatchSize], "default"), Is.EqualTo(Invariant(CalibrationSpec.DefaultBatchSize)));
            Assert.That(double.Parse(Text((YamlMappingNode)calibration[SpecKeys.Percentile], "default"), CultureInfo.InvariantCulture), Is.EqualTo(CalibrationSpec.DefaultPercentile));
            Assert.That(double.Parse(Text((YamlMappingNode)calibration[SpecKeys.MovingAverageConstant], "default"), CultureInfo.InvariantCulture), Is.EqualTo(CalibrationSpec.DefaultMovingAverageConstant));
            Assert.That(Text((YamlMappingNode)calibration[SpecKeys.MovingAverage], "default"), Is.EqualTo("false"));
            Assert.That(Text((YamlMappingNode)extra[SpecKeys.ActivationSymmetric], "default"), Is.EqualTo(Bool(defaults.ActivationSymmetric)));
            Assert.That(Text((YamlMappingNode)extra[SpecKeys.QuantizeBias], "default"), Is.EqualTo(Bool(defaults.QuantizeBias)));
            Assert.That(Text((YamlMappingNode)extra[SpecKeys.ForceQuantizeNoInputCheck], "default"), Is.EqualTo(Bool(defaults.ForceQuantizeNoInputCheck)));
        });
    }

    [Test]
    public void Float16AndCleanupDefaultsMatchTheTypedDefaults()
    {
        YamlMappingNode float16 = Properties(Definition("float16"));
        YamlMappingNode cleanup = Properties(Definition("cleanup"));
        var float16Defaults = new Float16PassSpec();
        var cleanupDefaults = new CleanupPassSpec();
        Assert.Multiple(() =>
        {
            Assert.That(Text((YamlMappingNode)float16[SpecKeys.KeepIoTypes], "default"), Is.EqualTo(Bool(float16Defaults.KeepIoTypes)));
            Assert.That(Strings((YamlMappingNode)float16[SpecKeys.NodeBlockList], "default"), Is.EqualTo(float16Defaults.NodeBlockList));
            Assert.That(Text((YamlMappingNode)cleanup[SpecKeys.RemoveIdentity], "default"), Is.EqualTo(Bool(cleanupDefaults.RemoveIdentity)));
            Assert.That(Text((YamlMappingNode)cleanup[SpecKeys.RemoveDropout], "default"), Is.EqualTo(Bool(cleanupDefaults.RemoveDropout)));
            Assert.That(Text((YamlMappingNode)cleanup[SpecKeys.RemoveDeadNodes], "default"), Is.EqualTo(Bool(cleanupDefaults.RemoveDeadNodes)));
            Assert.That(Text((YamlMappingNode)cleanup[SpecKeys.FoldBatchNorm], "default"), Is.EqualTo(Bool(cleanupDefaults.FoldBatchNorm)));
            Assert.That(Text((YamlMappingNode)cleanup[SpecKeys.FoldConstants], "default"), Is.EqualTo(Bool(cleanupDefaults.FoldConstants)));
            Assert.That(Text((YamlMappingNode)cleanup[SpecKeys.FuseHardSwish], "default"), Is.EqualTo(Bool(cleanupDefaults.FuseHardSwish)));
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

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private YamlMappingNode ThenForMode(string mode)
    {
        var conditions = (YamlSequenceNode)Definition("quantize")["allOf"];
        foreach (YamlMappingNode condition in conditions.Cast<YamlMappingNode>())
        {
            var modeSchema = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)condition["if"])["properties"])[SpecKeys.Mode];
            if (Text(modeSchema, "const") == mode)
            {
                return (YamlMappingNode)condition["then"];
            }
        }

        Assert.Fail($"No if/then for mode {mode}.");
        return null!;
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
        // Definitions that are not objects (quant_type) have no properties to check.
        foreach (var (name, definition) in ((YamlMappingNode)schema["$defs"]).Children)
        {
            if (Text((YamlMappingNode)definition, "type") == "object")
            {
                yield return ($"$defs.{name}", (YamlMappingNode)definition);
            }
        }
    }
}
