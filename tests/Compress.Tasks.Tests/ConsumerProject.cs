using System.Globalization;

namespace Compress.Tasks.Tests;

/// <summary>
/// A throwaway console app that consumes the packed Compress.Tasks and Compress.Runtime packages the
/// way a user's project does: package references from a local feed, a compress.yaml beside the project,
/// and a Program that loads bin's models/digits.onnx and prints its accuracy on the shared test set.
/// </summary>
internal sealed class ConsumerProject
{
    public const string ModelName = "digits";

    private ConsumerProject(string directory) => Directory = directory;

    public string Directory { get; }

    public string SpecPath => Path.Combine(Directory, "compress.yaml");

    public string IntermediateModelPath => Path.Combine(Directory, "obj", "Debug", "net10.0", "compress", ModelName + ".onnx");

    public string OutputFolder => Path.Combine(Directory, "bin", "Debug", "net10.0");

    public string OutputModelPath => Path.Combine(OutputFolder, "models", ModelName + ".onnx");

    public string OutputReportPath => Path.Combine(OutputFolder, "models", ModelName + ".report.json");

    /// <summary>Writes the project into <paramref name="directory"/>; <paramref name="spec"/> is the compress.yaml text.</summary>
    /// <param name="properties">Extra MSBuild properties (XML) for the project's PropertyGroup.</param>
    /// <param name="items">Extra items (XML) for the project's package ItemGroup.</param>
    public static ConsumerProject Create(string directory, string feed, string packageVersion, string spec, string properties = "", string items = "")
    {
        System.IO.Directory.CreateDirectory(directory);
        // Empty Directory.Build.* files stop MSBuild from walking up into whatever lies above the temp folder.
        File.WriteAllText(Path.Combine(directory, "Directory.Build.props"), "<Project />\n");
        File.WriteAllText(Path.Combine(directory, "Directory.Build.targets"), "<Project />\n");
        // Adds the feed to the inherited sources, so the served NuGet copy still provides ONNX Runtime.
        File.WriteAllText(Path.Combine(directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="compress-e2e" value="{feed}" />
              </packageSources>
            </configuration>
            """);
        // A RuntimeIdentifier keeps ONNX Runtime's native files to this platform's (~20 MB instead of ~240 MB).
        File.WriteAllText(Path.Combine(directory, "app.csproj"), string.Create(CultureInfo.InvariantCulture, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <RuntimeIdentifier>$(NETCoreSdkPortableRuntimeIdentifier)</RuntimeIdentifier>
                <SelfContained>false</SelfContained>
                <AppendRuntimeIdentifierToOutputPath>false</AppendRuntimeIdentifierToOutputPath>
                {properties}
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Compress.Tasks" Version="{packageVersion}" PrivateAssets="all" />
                <PackageReference Include="Compress.Runtime" Version="{packageVersion}" />
                {items}
              </ItemGroup>
            </Project>
            """));
        File.WriteAllText(Path.Combine(directory, "Program.cs"), """
            using Compress.Runtime;
            using Compress.Runtime.Data;

            // Usage: app <x.npy> <y.npy>; prints "accuracy <correct>/<count>".
            string modelPath = Path.Combine(AppContext.BaseDirectory, "models", "digits.onnx");
            using CompressedModel model = CompressedModel.Load(modelPath);
            NpyArray x = NpyArray.Load(args[0]);
            long[] labels = NpyArray.Load(args[1]).ToInt64Array();
            int count = (int)x.SampleCount;
            int features = (int)(x.ElementCount / count);
            ModelOutput output = model.Run(x.ToSingleArray(), [count, features]);
            ReadOnlySpan<float> logits = output.AsSpan<float>();
            int classes = logits.Length / count;
            int correct = 0;
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> row = logits.Slice(i * classes, classes);
                int best = 0;
                for (int c = 1; c < classes; c++)
                {
                    if (row[c] > row[best])
                    {
                        best = c;
                    }
                }

                correct += best == labels[i] ? 1 : 0;
            }

            Console.WriteLine($"accuracy {correct}/{count}");
            """);
        File.WriteAllText(Path.Combine(directory, "compress.yaml"), spec);
        return new ConsumerProject(directory);
    }

    /// <summary>The contract spec: digits-mlp with dynamic per-channel int8 quantization of MatMul/Gemm.</summary>
    public static string ValidSpec(string sourceModel) => $"""
        version: 1
        models:
          - name: {ModelName}
            source: {sourceModel}
            passes:
              - quantize: {"{"}mode: dynamic, per_channel: true, op_types_to_quantize: [MatMul, Gemm]{"}"}
        """;

    /// <summary>
    /// The same spec with an unknown key (<c>quantise</c>) at line 7, column 5.
    /// </summary>
    public static string SpecWithUnknownKey(string sourceModel) => ValidSpec(sourceModel) + "\n    quantise: true\n";
}
