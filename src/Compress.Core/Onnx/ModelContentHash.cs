using System.Security.Cryptography;
using Compress.Core.Onnx.Proto;
using Google.Protobuf;

namespace Compress.Core.Onnx;

/// <summary>
/// SHA-256 of a model's content for in-memory memo keys. Works for models over 2 GB, which protobuf cannot
/// serialize: tensor data is hashed tensor by tensor, then the model with its tensors' raw data left out.
/// </summary>
internal static class ModelContentHash
{
    public static string Sha256(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // The copy shares the (immutable) tensor bytes with the model; only its raw_data fields are cleared.
        ModelProto structure = model.Clone();
        Span<byte> length = stackalloc byte[sizeof(long)];
        foreach (OnnxTensorSite site in OnnxModelWalker.Tensors(structure))
        {
            ByteString raw = site.Tensor.RawData;
            BitConverter.TryWriteBytes(length, (long)raw.Length);
            hash.AppendData(length);
            hash.AppendData(raw.Span);
            site.Tensor.RawData = ByteString.Empty;
        }

        hash.AppendData(structure.ToByteArray());
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
