using System.Globalization;
using System.Text.RegularExpressions;
using Compress.Core.Diagnostics;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Runtime.Data;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Compress.Core.Calibration;

/// <summary>
/// One unit of calibration data whose samples are consecutive: a .npy, an .npz, a folder of
/// <c>input_N.pb</c> files, or one ONNX backend <c>test_data_set_N</c> folder. Loading reads the
/// file(s) and maps the arrays to model inputs.
/// </summary>
internal sealed partial class DataPart
{
    private DataPart(string path, DataPartKind kind)
    {
        Path = path;
        Kind = kind;
    }

    public string Path { get; }

    public DataPartKind Kind { get; }

    /// <summary>The parts a resolved file or folder holds, in sample order.</summary>
    /// <exception cref="CompressException">CMP1007 for files that are not calibration data.</exception>
    public static IEnumerable<DataPart> From(string path)
    {
        if (Directory.Exists(path))
        {
            return FromFolder(path);
        }

        string extension = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".npy" => [new DataPart(path, DataPartKind.Npy)],
            ".npz" => [new DataPart(path, DataPartKind.Npz)],
            ".pb" => throw new CompressException(
                DiagnosticCodes.DataFileInvalid,
                $"'{System.IO.Path.GetFileName(path)}': give the folder that holds input_0.pb, input_1.pb, … (one TensorProto per model input), not a single .pb file.",
                path),
            _ => throw new CompressException(
                DiagnosticCodes.DataFileInvalid,
                $"'{System.IO.Path.GetFileName(path)}' is not calibration data: use .npy (one input), .npz (arrays keyed by input name) or a folder of input_N.pb TensorProto files.",
                path),
        };
    }

    /// <summary>Reads the part and maps its arrays to <paramref name="inputs"/> (required ones must all be fed).</summary>
    /// <exception cref="CompressException">CMP1007 unreadable or invalid file, or no array for an input.</exception>
    public Dictionary<string, StoredArray> Load(IReadOnlyList<DeclaredInput> inputs)
    {
        try
        {
            return Kind switch
            {
                DataPartKind.Npy => LoadNpy(inputs),
                DataPartKind.Npz => LoadNpz(inputs),
                _ => LoadPbFolder(inputs),
            };
        }
        catch (InvalidDataException e)
        {
            throw Invalid(Path, $"'{System.IO.Path.GetFileName(Path)}' is not valid calibration data: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Invalid(Path, $"'{System.IO.Path.GetFileName(Path)}' cannot be read: {e.Message}", e);
        }
    }

    private static List<DataPart> FromFolder(string folder)
    {
        if (PbFiles(folder).Count > 0)
        {
            return [new DataPart(folder, DataPartKind.PbFolder)];
        }

        var sets = Directory.GetDirectories(folder, "test_data_set_*")
            .Select(d => (Folder: d, Index: NumberSuffix(System.IO.Path.GetFileName(d))))
            .OrderBy(s => s.Index)
            .ThenBy(s => s.Folder, StringComparer.Ordinal)
            .Select(s => new DataPart(s.Folder, DataPartKind.BackendTestSet))
            .ToList();
        if (sets.Count > 0)
        {
            return sets;
        }

        var files = Directory.GetFiles(folder)
            .Where(f => System.IO.Path.GetExtension(f).ToLowerInvariant() is ".npy" or ".npz")
            .Order(StringComparer.Ordinal)
            .SelectMany(From)
            .ToList();
        if (files.Count == 0)
        {
            throw Invalid(folder, $"The folder '{System.IO.Path.GetFileName(folder)}' holds no calibration data: no .npy, .npz, input_N.pb or test_data_set_N folders.");
        }

        return files;
    }

    private Dictionary<string, StoredArray> LoadNpy(IReadOnlyList<DeclaredInput> inputs)
    {
        List<DeclaredInput> required = inputs.Where(i => i.Required).ToList();
        if (required.Count != 1)
        {
            throw Invalid(Path, $"'{System.IO.Path.GetFileName(Path)}' is a .npy file, which feeds a model with one input, but this model has {required.Count} inputs ({string.Join(", ", required.Select(i => i.Name))}); use an .npz with one array per input name.");
        }

        NpyArray array = NpyArray.Load(Path);
        return new Dictionary<string, StoredArray>(StringComparer.Ordinal) { [required[0].Name] = StoredArray.FromNpy(Path, array) };
    }

    private Dictionary<string, StoredArray> LoadNpz(IReadOnlyList<DeclaredInput> inputs)
    {
        NpzArchive archive = NpzArchive.Load(Path);
        var mapped = new Dictionary<string, StoredArray>(StringComparer.Ordinal);
        foreach (DeclaredInput input in inputs)
        {
            if (archive.TryGetValue(input.Name, out NpyArray array))
            {
                mapped[input.Name] = StoredArray.FromNpy(Path, array);
            }
            else if (input.Required)
            {
                throw Invalid(Path, $"'{System.IO.Path.GetFileName(Path)}' has no array for model input '{input.Name}'; it has: {string.Join(", ", archive.Keys)}. Arrays are matched to inputs by name.");
            }
        }

        return mapped;
    }

    private Dictionary<string, StoredArray> LoadPbFolder(IReadOnlyList<DeclaredInput> inputs)
    {
        bool samplesOnAxis0 = Kind == DataPartKind.PbFolder;
        List<DeclaredInput> required = inputs.Where(i => i.Required).ToList();
        var mapped = new Dictionary<string, StoredArray>(StringComparer.Ordinal);
        foreach ((string file, int index) in PbFiles(Path))
        {
            TensorProto tensor = ReadTensor(file);
            // The backend data names each tensor after its input; otherwise the file number is the input position.
            DeclaredInput? input = inputs.FirstOrDefault(i => i.Name == tensor.Name && tensor.Name.Length > 0)
                ?? (index < required.Count ? required[index] : null);
            if (input is null)
            {
                throw Invalid(file, $"'{System.IO.Path.GetFileName(file)}' matches no model input: the model has {required.Count} inputs ({string.Join(", ", required.Select(i => i.Name))}).");
            }

            var type = (TensorElementType)tensor.DataType;
            if (ElementConversion.SizeOf(type) == 0 || !OnnxTensorConverter.IsSupported((TensorProto.Types.DataType)tensor.DataType))
            {
                throw Invalid(file, $"'{System.IO.Path.GetFileName(file)}' holds {(TensorProto.Types.DataType)tensor.DataType} values, which calibration data cannot hold; use a numeric type.");
            }

            if (TensorData.IsExternal(tensor))
            {
                throw Invalid(file, $"'{System.IO.Path.GetFileName(file)}' keeps its values in an external file; store them in the .pb itself.");
            }

            byte[] bytes;
            try
            {
                bytes = TensorElementBytes.Read(tensor);
            }
            catch (CompressException e)
            {
                throw Invalid(file, $"'{System.IO.Path.GetFileName(file)}' is not a valid TensorProto: {e.Message}", e);
            }

            mapped[input.Name] = StoredArray.FromTensor(file, type, [.. tensor.Dims], bytes, samplesOnAxis0);
        }

        DeclaredInput? missing = required.FirstOrDefault(i => !mapped.ContainsKey(i.Name));
        if (missing is not null)
        {
            int position = required.IndexOf(missing);
            throw Invalid(Path, $"The folder '{System.IO.Path.GetFileName(Path)}' has no tensor for model input '{missing.Name}' (expected input_{position}.pb or a TensorProto named '{missing.Name}').");
        }

        return mapped;
    }

    private static TensorProto ReadTensor(string file)
    {
        try
        {
            return TensorProto.Parser.ParseFrom(File.ReadAllBytes(file));
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Invalid(file, $"'{System.IO.Path.GetFileName(file)}' is not a valid TensorProto: {e.Message}", e);
        }
    }

    private static List<(string File, int Index)> PbFiles(string folder) =>
        Directory.GetFiles(folder, "input_*.pb")
            .Select(f => (File: f, Match: PbName().Match(System.IO.Path.GetFileName(f))))
            .Where(x => x.Match.Success)
            .Select(x => (x.File, int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture)))
            .OrderBy(x => x.Item2)
            .ToList();

    private static long NumberSuffix(string name)
    {
        Match m = TrailingNumber().Match(name);
        return m.Success && long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : long.MaxValue;
    }

    private static CompressException Invalid(string file, string message, Exception? inner = null) =>
        new(DiagnosticCodes.DataFileInvalid, message, file, inner);

    [GeneratedRegex(@"^input_(\d{1,6})\.pb$")]
    private static partial Regex PbName();

    [GeneratedRegex(@"(\d+)$")]
    private static partial Regex TrailingNumber();
}
