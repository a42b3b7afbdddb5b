using Compress.Tests;

namespace Compress.Core.Tests;

/// <summary>
/// Locations of test material: the repository (the folder holding Compress.slnx), ../shared beside
/// it (models and data, never copied into the repository) and the ONNX backend test suite.
/// </summary>
internal static class TestPaths
{
    /// <summary>Where Debian's libonnx-testdata installs the ONNX backend test suite.</summary>
    public const string OnnxBackendData = "/usr/share/libonnx-testdata/data";

    /// <summary>The folder holding Compress.slnx.</summary>
    public static string RepositoryRoot => RepositoryLayout.RepositoryRoot;

    /// <summary>compress.schema.yaml at the repository root.</summary>
    public static string SchemaFile => Path.Combine(RepositoryRoot, "compress.schema.yaml");

    /// <summary>../shared beside the checkout; fails the test when it is missing.</summary>
    public static string Shared
    {
        get
        {
            string shared = RepositoryLayout.SharedDirectory;
            Assert.That(Directory.Exists(shared), Is.True, $"shared material not found at {shared}");
            return shared;
        }
    }

    /// <summary>../shared/models.</summary>
    public static string SharedModels => Path.Combine(Shared, "models");

    /// <summary>A shared model by name without extension, e.g. "digits-mlp".</summary>
    public static string SharedModel(string name) => Path.Combine(SharedModels, name + ".onnx");

    /// <summary>A shared data file by file name, e.g. "digits_test_x.npy".</summary>
    public static string SharedData(string file) => Path.Combine(Shared, "data", file);

    /// <summary>The ONNX backend suite folder (node, simple, ...); fails the test when it is not installed.</summary>
    public static string RequireOnnxBackendData(string kind)
    {
        string folder = Path.Combine(OnnxBackendData, kind);
        if (!Directory.Exists(folder))
        {
            Assert.Fail($"The ONNX backend test suite is missing: '{folder}' does not exist. Install it with 'apt-get install libonnx-testdata' (.ci/run does this).");
        }

        return folder;
    }
}
