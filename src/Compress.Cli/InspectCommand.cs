using System.CommandLine;
using Compress.Core.Inspection;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Pipeline;

namespace Compress.Cli;

/// <summary><c>compress inspect &lt;model.onnx&gt; [--json]</c>: op histogram, parameters, bytes, dtypes, sparsity.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<FileInfo>("model") { Description = "The ONNX model to inspect." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables." };
        var command = new Command("inspect", "Show what a model contains: operators, parameters, sizes, data types, sparsity.") { model, json };
        command.SetAction(parse => Inspect(parse.GetRequiredValue(model), parse.GetValue(json)));
        return command;
    }

    private static int Inspect(FileInfo model, bool json)
    {
        (ModelProto proto, long storedBytes) = ModelInputFiles.LoadWithStoredBytes(model.FullName);

        // Weights stored sparse (storage: sparse) are parameters like any other.
        SparseInitializerStorage.Densify(proto);
        ModelInspection inspection = ModelInspector.Inspect(proto, model.Length, storedBytes - model.Length);
        Console.Out.WriteLine(json ? inspection.ToJson() : inspection.ToText());
        return ExitCodes.Success;
    }
}
