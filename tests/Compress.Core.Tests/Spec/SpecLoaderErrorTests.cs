using Compress.Core.Diagnostics;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>Each kind of mistake gives one error with its code, at the offending key or value.</summary>
public sealed class SpecLoaderErrorTests
{
    private SpecWorkspace workspace = null!;

    [SetUp]
    public void CreateWorkspace() => workspace = new SpecWorkspace();

    [TearDown]
    public void DeleteWorkspace() => workspace.Dispose();

    [Test]
    public void TemplateIsValid()
    {
        SpecLoadResult result = workspace.Parse(SpecTemplate.Valid);

        Assert.That(result.Diagnostics, Is.Empty, () => string.Join('\n', result.Diagnostics));
        Assert.That(result.Succeeded, Is.True);
    }

    [Test]
    public void YamlSyntaxErrorIsReportedWhereTheParserStopped()
    {
        // The flow list is never closed; the parser notices at the start of the next line.
        Diagnostic error = workspace.SingleError(SpecTemplate.With(9, "          op_types_to_quantize: [MatMul, Gemm"), DiagnosticCodes.YamlSyntax, 10, 1);

        Assert.That(error.Message, Does.StartWith("YAML syntax error: "));
    }

    [Test]
    public void TabIndentationIsReportedAtTheTab()
    {
        Diagnostic error = workspace.SingleError("version: 1\nmodels:\n\t- name: a\n", DiagnosticCodes.YamlSyntax, 3, 1);

        Assert.That(error.Message, Does.Contain("tab"));
    }

    [Test]
    public void UnclosedFlowMappingIsASyntaxErrorNotACrash()
    {
        // YamlDotNet 18.1 throws InvalidOperationException here rather than a YamlException; the error is
        // placed at the end of the last token read, the 'x' inside the unclosed '{'.
        string yaml = SpecTemplate.With(7, "          mode: {x: 1");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.YamlSyntax, 7, 19);

        Assert.That(error.Message, Does.Contain("unclosed bracket"));
    }

    [Test]
    public void UnknownQuantizeOptionSuggestsTheClosestKey()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(8, "          per_chanel: true"), DiagnosticCodes.UnknownKey, 8, 11);

        Assert.That(error.Message, Is.EqualTo("Unknown key 'per_chanel' in quantize options. Did you mean 'per_channel'?"));
    }

    [Test]
    public void UnknownKeyWithoutCloseMatchListsTheAllowedKeys()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(8, "          fast: true"), DiagnosticCodes.UnknownKey, 8, 11);

        Assert.That(error.Message, Is.EqualTo(
            "Unknown key 'fast' in quantize options. Allowed keys: mode, per_channel, reduce_range, weight_type, activation_type, quant_format, " +
            "op_types_to_quantize, nodes_to_quantize, nodes_to_exclude, calibration, calibrate_method, extra_options, node_overrides, bits, " +
            "block_size, symmetric, accuracy_level, scale_type."));
    }

    [Test]
    public void UnknownTopLevelKeyIsReported()
    {
        Diagnostic error = workspace.SingleError("owner: me\n" + SpecTemplate.Valid, DiagnosticCodes.UnknownKey, 1, 1);

        Assert.That(error.Message, Does.Contain("at the top level"));
    }

    [Test]
    public void MisspeltRequiredKeyIsOneUnknownKeyErrorNotAlsoAMissingKey()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(2, "model:"), DiagnosticCodes.UnknownKey, 2, 1);

        Assert.That(error.Message, Is.EqualTo("Unknown key 'model' at the top level. Did you mean 'models'?"));
    }

    [Test]
    public void UnknownKeyInModelEntryIsReported()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(4, "    sorce: models/digits.onnx"), DiagnosticCodes.UnknownKey, 4, 5);

        Assert.That(error.Message, Is.EqualTo("Unknown key 'sorce' in a model entry. Did you mean 'source'?"));
    }

    [Test]
    public void UnknownPassNameSuggestsTheKnownPass()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(6, "      - quantise:"), DiagnosticCodes.UnknownKey, 6, 9);

        Assert.That(error.Message, Is.EqualTo("Unknown pass 'quantise'. Did you mean 'quantize'?"));
    }

    [Test]
    public void OptionThatLostItsIndentationIsOneError()
    {
        // "- quantize:" with "mode" at the same level as "quantize": a two-key pass entry, not two errors.
        string yaml = "version: 1\nmodels:\n  - name: m\n    source: models/digits.onnx\n    passes:\n      - quantize:\n        mode: dynamic\n";

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.UnknownKey, 7, 9);

        Assert.That(error.Message, Does.Contain("'mode' is an option of 'quantize': indent it below 'quantize:'"));
    }

    [Test]
    public void StringForBooleanIsWrongType()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(8, "          per_channel: \"yes please\""), DiagnosticCodes.WrongType, 8, 24);

        Assert.That(error.Message, Is.EqualTo("'per_channel' must be true or false, but it is the string 'yes please'."));
    }

    [Test]
    public void Yaml11BooleanWordIsWrongTypeWithAHint()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(8, "          per_channel: yes"), DiagnosticCodes.WrongType, 8, 24);

        Assert.That(error.Message, Does.Contain("YAML 1.2 reads yes/no/on/off as strings"));
    }

    [Test]
    public void NumberForModelsListIsWrongType()
    {
        string yaml = "version: 1\nmodels: 5\n";

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.WrongType, 2, 9);

        Assert.That(error.Message, Does.Contain("but it is the integer 5"));
    }

    [Test]
    public void NumberForOpTypeListIsWrongType()
    {
        workspace.SingleError(SpecTemplate.With(9, "          op_types_to_quantize: 3"), DiagnosticCodes.WrongType, 9, 33);
    }

    [Test]
    public void NumberInsideOpTypeListIsWrongTypeAtTheItem()
    {
        workspace.SingleError(SpecTemplate.With(9, "          op_types_to_quantize: [MatMul, 3]"), DiagnosticCodes.WrongType, 9, 42);
    }

    [Test]
    public void ModelEntryThatIsNotAMappingIsWrongType()
    {
        workspace.SingleError("version: 1\nmodels:\n  - models/digits.onnx\n", DiagnosticCodes.WrongType, 3, 5);
    }

    [Test]
    public void UnsupportedVersionIsTheOnlyErrorReported()
    {
        // Under version 2 the unknown key might be valid, so it is not judged by v1 rules.
        string yaml = SpecTemplate.With(1, "version: 2").Replace("per_channel", "future_option", StringComparison.Ordinal);

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.UnsupportedVersion, 1, 10);

        Assert.That(error.Message, Is.EqualTo("Spec version 2 is not supported: this version of Compress reads version 1."));
    }

    [TestCase("version: 0")]
    [TestCase("version: -1")]
    public void VersionBelowOneIsUnsupported(string line)
    {
        workspace.SingleError(SpecTemplate.With(1, line), DiagnosticCodes.UnsupportedVersion, 1, 10);
    }

    [Test]
    public void VersionBeyondTheIntegerRangeIsOutOfRange()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(1, "version: 99999999999999999999"), DiagnosticCodes.OutOfRange, 1, 10);

        Assert.That(error.Message, Is.EqualTo("'version' is 99999999999999999999, out of the range -2147483648 to 2147483647."));
    }

    [TestCase("version: \"1\"")]
    [TestCase("version: 1.0")]
    public void VersionThatIsNotAnIntegerIsWrongType(string line)
    {
        workspace.SingleError(SpecTemplate.With(1, line), DiagnosticCodes.WrongType, 1, 10);
    }

    [Test]
    public void MissingVersionIsReportedAtTheDocumentStart()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(1, "# no version"), DiagnosticCodes.MissingKey, 2, 1);

        Assert.That(error.Message, Does.Contain("'version'"));
    }

    [Test]
    public void MissingModelsIsReportedAtTheDocumentStart()
    {
        workspace.SingleError("version: 1\n", DiagnosticCodes.MissingKey, 1, 1);
    }

    [Test]
    public void MissingNameIsReportedAtTheModelEntry()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(3, "  - passes_before: []").Replace("    source:", "  - source:", StringComparison.Ordinal).Replace("  - passes_before: []\n", string.Empty, StringComparison.Ordinal), DiagnosticCodes.MissingKey, 3, 5);

        Assert.That(error.Message, Does.Contain("'name'"));
    }

    [Test]
    public void MissingSourceIsReportedAtTheModelEntry()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(4, "    # no source"), DiagnosticCodes.MissingKey, 3, 5);

        Assert.That(error.Message, Does.Contain("'source'"));
    }

    [Test]
    public void MissingModeIsReportedAtThePassName()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(7, "          # no mode"), DiagnosticCodes.MissingKey, 6, 9);

        Assert.That(error.Message, Does.Contain("'mode'"));
    }

    [Test]
    public void BadModeListsTheAllowedValues()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(7, "          mode: dynamc"), DiagnosticCodes.BadEnumValue, 7, 17);

        Assert.That(error.Message, Is.EqualTo("Unknown mode 'dynamc' for 'mode'. Allowed values: dynamic, static, weight_only. Did you mean 'dynamic'?"));
    }

    [Test]
    public void BadWeightTypeListsTheAllowedValues()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(8, "          weight_type: int4"), DiagnosticCodes.BadEnumValue, 8, 24);

        Assert.That(error.Message, Does.StartWith("Unknown weight type 'int4' for 'weight_type'. Allowed values: QInt8, QUInt8, int8, uint8 (case-insensitive)."));
    }

    [Test]
    public void StaticModeWithoutCalibrationIsAMissingKeyAtThePassName()
    {
        // Static and weight_only are supported now; static needs its data.
        Diagnostic error = workspace.SingleError(SpecTemplate.With(7, "          mode: static"), DiagnosticCodes.MissingKey, 6, 9);

        Assert.That(error.Message, Does.Contain("missing required key 'calibration'"));
    }

    [TestCase("models: []", 2, 9)]
    [TestCase("models:", 2, 1)]
    public void EmptyModelsListIsReported(string line, int errorLine, int errorColumn)
    {
        workspace.SingleError("version: 1\n" + line + "\n", DiagnosticCodes.EmptyModels, errorLine, errorColumn);
    }

    [Test]
    public void EmptyOpTypeListIsInvalid()
    {
        workspace.SingleError(SpecTemplate.With(9, "          op_types_to_quantize: []"), DiagnosticCodes.InvalidValue, 9, 33);
    }

    [Test]
    public void DuplicateModelNameIsReportedAtTheSecondOccurrence()
    {
        string yaml = SpecTemplate.Valid + "  - name: digits-int8\n    source: models/digits.onnx\n";

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.DuplicateModelName, 10, 11);

        Assert.That(error.Message, Does.Contain("the model at line 3 already uses it"));
    }

    [Test]
    public void ModelNamesDifferingOnlyInCaseAreDuplicates()
    {
        string yaml = SpecTemplate.Valid + "  - name: Digits-INT8\n    source: models/digits.onnx\n";

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.DuplicateModelName, 10, 11);

        Assert.That(error.Message, Does.Contain("differs only in case"));
    }

    [Test]
    public void MissingSourceFileIsReportedAtTheSourceValue()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(4, "    source: models/missing.onnx"), DiagnosticCodes.ModelFileMissing, 4, 13);

        Assert.That(error.Message, Does.Contain(Path.Combine(workspace.Folder, "models", "missing.onnx")));
    }

    [Test]
    public void SourceThatIsAFolderIsReported()
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(4, "    source: models"), DiagnosticCodes.ModelFileMissing, 4, 13);

        Assert.That(error.Message, Does.Contain("is a folder"));
    }

    [TestCase("../x.onnx")]
    [TestCase("/tmp/x.onnx")]
    [TestCase("C:/x.onnx")]
    [TestCase("sub/../../x.onnx")]
    [TestCase("..\\x.onnx")]
    public void OutputLeavingTheOutputFolderIsReported(string output)
    {
        string yaml = SpecTemplate.With(5, $"    output: '{output}'\n    passes:");

        workspace.SingleError(yaml, DiagnosticCodes.OutputEscapesFolder, 5, 13);
    }

    [TestCase("sub/")]
    [TestCase("a|b.onnx")]
    public void OutputThatIsNoPortableFilePathIsInvalid(string output)
    {
        string yaml = SpecTemplate.With(5, $"    output: '{output}'\n    passes:");

        workspace.SingleError(yaml, DiagnosticCodes.InvalidValue, 5, 13);
    }

    [Test]
    public void OutputWrittenByTwoModelsIsReportedAtTheSecond()
    {
        string yaml = SpecTemplate.Valid + "  - name: other\n    source: models/digits.onnx\n    output: digits-int8.onnx\n";

        workspace.SingleError(yaml, DiagnosticCodes.InvalidValue, 12, 13);
    }

    [TestCase("my model")]
    [TestCase("a/b")]
    [TestCase("..")]
    [TestCase("naïve")]
    public void UnsafeModelNameIsInvalid(string name)
    {
        Diagnostic error = workspace.SingleError(SpecTemplate.With(3, $"  - name: '{name}'"), DiagnosticCodes.InvalidValue, 3, 11);

        Assert.That(error.Message, Does.Contain("is not a safe file name"));
    }

    [Test]
    public void DuplicateKeyIsReportedAtTheSecondKeyAndValidationGoesOn()
    {
        // The duplicate is dropped (the first 'mode' wins), so the typo two lines below is still found.
        string yaml = SpecTemplate.With(8, "          mode: static\n          reduce_rang: true");

        SpecLoadResult result = workspace.Parse(yaml);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line, d.Column)), Is.EqualTo(new[]
        {
            (DiagnosticCodes.DuplicateKey, 8, 11),
            (DiagnosticCodes.UnknownKey, 9, 11),
        }));
        Assert.That(result.Diagnostics[0].Message, Does.Contain("already appears at line 7"));
    }

    [Test]
    public void NonMappingDocumentIsWrongType()
    {
        workspace.SingleError("- version: 1\n- models: []\n", DiagnosticCodes.WrongType, 1, 1);
    }

    [TestCase("")]
    [TestCase("# only a comment\n")]
    [TestCase("---\n")]
    public void EmptyDocumentIsOneMissingKeyError(string yaml)
    {
        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.MissingKey, 1, 1);

        Assert.That(error.Message, Does.Contain("The spec is empty"));
    }

    [Test]
    public void SecondYamlDocumentIsReportedAtItsStartAndTheFirstIsStillValidated()
    {
        string yaml = SpecTemplate.With(8, "          per_chanel: true") + "---\nversion: 1\n";

        SpecLoadResult result = workspace.Parse(yaml);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line, d.Column)), Is.EqualTo(new[]
        {
            (DiagnosticCodes.UnknownKey, 8, 11),
            (DiagnosticCodes.YamlSyntax, 10, 1),
        }));
        Assert.That(result.Diagnostics[1].Message, Does.Contain("exactly one YAML document"));
    }

    [Test]
    public void UnquotedGlobStartingWithStarIsExplained()
    {
        string yaml = SpecTemplate.With(9, "          nodes_to_exclude: [*attn*]");

        Diagnostic error = workspace.SingleError(yaml, DiagnosticCodes.YamlSyntax, 9, 30);

        Assert.That(error.Message, Does.Contain("must be quoted"));
    }

    [Test]
    public void IndependentMistakesAreAllReportedInFileOrder()
    {
        string yaml = SpecTemplate.With(8, "          per_chanel: true") + "  - name: 'bad name'\n    source: models/none.onnx\n";

        SpecLoadResult result = workspace.Parse(yaml);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line, d.Column)), Is.EqualTo(new[]
        {
            (DiagnosticCodes.UnknownKey, 8, 11),
            (DiagnosticCodes.InvalidValue, 10, 11),
            (DiagnosticCodes.ModelFileMissing, 11, 13),
        }));
        Assert.That(result.Succeeded, Is.False);
    }

    [Test]
    public void MissingSpecFileIsUnreadableWithoutPosition()
    {
        string path = Path.Combine(workspace.Folder, "absent.yaml");

        SpecLoadResult result = SpecLoader.Load(path);

        Assert.That(result.Diagnostics, Has.Count.EqualTo(1));
        Diagnostic error = result.Diagnostics[0];
        Assert.Multiple(() =>
        {
            Assert.That(error.Code, Is.EqualTo(DiagnosticCodes.SpecUnreadable));
            Assert.That((error.File, error.Line, error.Column), Is.EqualTo((path, 0, 0)));
            Assert.That(error.Message, Does.Contain("does not exist"));
            Assert.That(result.Succeeded, Is.False);
        });
    }

    [Test]
    public void FolderAsSpecFileIsUnreadable()
    {
        SpecLoadResult result = SpecLoader.Load(workspace.Folder);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line)), Is.EqualTo(new[] { (DiagnosticCodes.SpecUnreadable, 0) }));
        Assert.That(result.Diagnostics[0].Message, Does.Contain("is a folder"));
    }

    [Test]
    public void SpecFileWithoutReadPermissionIsUnreadable()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("Unix file modes only.");
            return;
        }

        File.WriteAllText(workspace.SpecPath, SpecTemplate.Valid);
        File.SetUnixFileMode(workspace.SpecPath, UnixFileMode.None);
        bool readable;
        try
        {
            readable = File.ReadAllText(workspace.SpecPath).Length > 0;
        }
        catch (UnauthorizedAccessException)
        {
            readable = false;
        }

        if (readable)
        {
            Assert.Ignore("This user can read any file (root), so an unreadable file cannot be produced.");
        }

        SpecLoadResult result = SpecLoader.Load(workspace.SpecPath);

        Assert.That(result.Diagnostics.Select(d => (d.Code, d.Line)), Is.EqualTo(new[] { (DiagnosticCodes.SpecUnreadable, 0) }));
    }
}
