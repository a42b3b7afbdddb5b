using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;

namespace Compress.Core.Tests.Passes;

/// <summary>Shared models and data by short name.</summary>
internal static class SharedMaterial
{
    public static string ModelPath(string name) => TestPaths.SharedModel(name);

    public static string DataPath(string file) => TestPaths.SharedData(file);

    public static ModelProto LoadModel(string name) => OnnxModelFile.Load(ModelPath(name));
}
