using Compress.Core.Diagnostics;
using Compress.Core.Spec;

namespace Compress.Core.Tests.Spec;

/// <summary>
/// A temp folder with a spec path and a tiny stand-in model at models/digits.onnx (the loader only checks
/// that source files exist), deleted on dispose.
/// </summary>
internal sealed class SpecWorkspace : IDisposable
{
    public const string ModelRelativePath = "models/digits.onnx";

    public SpecWorkspace()
    {
        Folder = Path.Combine(Path.GetTempPath(), "compress-spec-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Folder, "models"));
        File.WriteAllBytes(ModelPath, [0x08, 0x07]);

        // Stand-in calibration data: the loader checks that data paths exist and have a data extension.
        foreach (string data in DataFiles)
        {
            CreateFile(data);
        }
    }

    /// <summary>Data files every workspace has, relative to its folder.</summary>
    public static IReadOnlyList<string> DataFiles { get; } =
        ["data/calib.npy", "data/more/b.npz", "data/more/a.npz", "data/sets/one/input_0.pb"];

    public string Folder { get; }

    public string SpecPath => Path.Combine(Folder, "compress.yaml");

    public string ModelPath => Path.Combine(Folder, "models", "digits.onnx");

    public SpecLoadResult Parse(string yaml) => SpecLoader.Parse(yaml, SpecPath);

    /// <summary>The full path of a path relative to the workspace, with the OS's separators.</summary>
    public string PathOf(string relative) => Path.GetFullPath(Path.Combine(Folder, relative.Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>Creates a small file (and its folders) relative to the workspace.</summary>
    public void CreateFile(string relative)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0x93, 0x4E]);
    }

    /// <summary>A spec with one model whose only pass is <paramref name="pass"/>, indented as the item of 'passes' (line 6 onwards).</summary>
    public static string WithPass(string pass) =>
        "version: 1\nmodels:\n  - name: m\n    source: models/digits.onnx\n    passes:\n" + pass.TrimEnd('\n') + "\n";

    /// <summary>Parses and asserts the result is exactly one error with this code and position, in this spec.</summary>
    public Diagnostic SingleError(string yaml, string code, int line, int column)
    {
        SpecLoadResult result = Parse(yaml);
        Assert.That(result.Diagnostics, Has.Count.EqualTo(1), () => "Diagnostics:\n" + string.Join('\n', result.Diagnostics));
        Diagnostic error = result.Diagnostics[0];
        Assert.Multiple(() =>
        {
            Assert.That(result.Succeeded, Is.False);
            Assert.That(result.Spec, Is.Null);
            Assert.That(error.IsError, Is.True);
            Assert.That(error.Code, Is.EqualTo(code), error.ToString);
            Assert.That((error.Line, error.Column), Is.EqualTo((line, column)), error.ToString);
            Assert.That(error.File, Is.EqualTo(SpecPath));
        });
        return error;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
