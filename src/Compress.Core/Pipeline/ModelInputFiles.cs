using Compress.Core.Diagnostics;
using Compress.Core.IO;
using Compress.Core.Onnx;
using Compress.Core.Onnx.Proto;
using Compress.Core.Spec;

namespace Compress.Core.Pipeline;

/// <summary>
/// Every file the output of one model entry depends on, besides the spec itself: the source model, the
/// external data files it points to, and the data files its passes read (calibration samples). The build
/// puts them in its up-to-date check and the cache hashes them, so each must be listed here.
/// </summary>
public static class ModelInputFiles
{
    /// <summary>
    /// The source model, then its external data files, then each pass's data files in pass order; full
    /// paths, no duplicates. Files that do not exist (yet) are left out, except the source model.
    /// </summary>
    public static IReadOnlyList<string> Of(ModelSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var files = new List<string>();
        void Add(string path)
        {
            if (seen.Add(path))
            {
                files.Add(path);
            }
        }

        Add(model.SourcePath);
        foreach (string path in ExternalDataFiles(model.SourcePath))
        {
            Add(path);
        }

        foreach (PassSpec pass in model.Passes)
        {
            foreach (string path in DataFilesOf(pass))
            {
                Add(path);
            }
        }

        if (model.Evaluate is { } evaluate)
        {
            // Evaluation data and labels decide whether the budget holds (and what tuning keeps in float).
            IEnumerable<string> data = evaluate.DataPaths.SelectMany(p => PathGlob.IsGlob(p) ? PathGlob.Expand(p) : [p]);
            foreach (string path in FilesUnder(data).Concat(evaluate.LabelsPath is null ? [] : [evaluate.LabelsPath]))
            {
                Add(path);
            }
        }

        return files;
    }

    /// <summary>
    /// The data files a pass reads, in the order it reads them: today the calibration data of a static
    /// quantize pass (globs expanded, folders of <c>input_N.pb</c> files listed file by file). New passes that
    /// read files add a case here.
    /// </summary>
    public static IReadOnlyList<string> DataFilesOf(PassSpec pass) => pass switch
    {
        QuantizePassSpec { Calibration: { } calibration } => FilesUnder(calibration.ExpandDataPaths()),
        ReconstructPassSpec reconstruct => FilesUnder(reconstruct.ExpandDataPaths()),
        PrunePassSpec prune => FilesUnder(prune.ExpandDataPaths()),
        _ => [],
    };

    /// <summary>
    /// The distinct external data files a model refers to, in first-use order. A model that cannot be read
    /// gives none: the pipeline reports that problem when it loads the model.
    /// </summary>
    public static IReadOnlyList<string> ExternalDataFiles(string modelPath)
    {
        ModelProto model;
        try
        {
            model = OnnxModelFile.Load(modelPath, new OnnxLoadOptions { LoadExternalData = false });
        }
        catch (CompressException)
        {
            return [];
        }

        return ExternalDataFiles(model, modelPath);
    }

    /// <summary>
    /// Loads the model at <paramref name="modelPath"/> with its external data, reading the file once, and the bytes it
    /// is stored in: the file plus its external data files (the weights of a model over 2 GB live there).
    /// </summary>
    /// <exception cref="CompressException">The model or its external data cannot be read (CMP1xxx).</exception>
    public static (ModelProto Model, long StoredBytes) LoadWithStoredBytes(string modelPath)
    {
        ModelProto model = OnnxModelFile.Load(modelPath, new OnnxLoadOptions { LoadExternalData = false });
        long storedBytes = new FileInfo(modelPath).Length + ExternalDataFiles(model, modelPath).Sum(f => new FileInfo(f).Length);
        OnnxModelFile.LoadExternalData(model, modelPath);
        return (model, storedBytes);
    }

    /// <summary>As <see cref="ExternalDataFiles(string)"/>, for a model already read from <paramref name="modelPath"/> without its external data.</summary>
    private static List<string> ExternalDataFiles(ModelProto unloaded, string modelPath)
    {
        ArgumentNullException.ThrowIfNull(unloaded);
        string folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var files = new List<string>();
        foreach (OnnxTensorSite site in OnnxModelWalker.Tensors(unloaded))
        {
            if (!TensorData.IsExternal(site.Tensor))
            {
                continue;
            }

            string? location = site.Tensor.ExternalData.FirstOrDefault(e => e.Key == "location")?.Value;
            if (location is null || ExternalDataLocation.Problem(location) is not null)
            {
                continue;
            }

            string full = Path.GetFullPath(Path.Combine(folder, location));
            if (!files.Contains(full, StringComparer.Ordinal) && File.Exists(full))
            {
                files.Add(full);
            }
        }

        return files;
    }

    private static List<string> FilesUnder(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (Directory.Exists(path))
            {
                // Ordinal order, as PathGlob sorts: the same folder always hashes the same way.
                files.AddRange(Directory.GetFiles(path, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
            }
            else if (File.Exists(path))
            {
                files.Add(Path.GetFullPath(path));
            }
        }

        return files;
    }
}
