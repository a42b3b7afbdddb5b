using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks;

/// <summary>
/// Turns the models list the compress tool writes (<c>--models-list</c>: output, source, report and name
/// separated by tabs, one model a line) into <c>CompressedModel</c> items that other targets can consume.
/// </summary>
public sealed class ReadCompressedModels : Task
{
    /// <summary>The models list written by the tool's last successful run; a missing file gives no items.</summary>
    [Required]
    public string ModelsListFile { get; set; } = string.Empty;

    /// <summary>The spec the list belongs to (becomes the <c>Spec</c> metadata).</summary>
    [Required]
    public string SpecFile { get; set; } = string.Empty;

    /// <summary>The tool's output folder; <c>RelativePath</c> metadata is relative to it.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>
    /// One item per model whose file exists: identity = full path of the compressed model, metadata
    /// <c>ModelName</c>, <c>Source</c>, <c>Spec</c>, <c>ReportPath</c>, <c>OutputPath</c> (= identity) and
    /// <c>RelativePath</c> (forward slashes, relative to <see cref="OutputDirectory"/>).
    /// </summary>
    [Output]
    public ITaskItem[] Models { get; private set; } = [];

    /// <inheritdoc />
    public override bool Execute()
    {
        if (!File.Exists(ModelsListFile))
        {
            return true;
        }

        string root = Path.GetFullPath(OutputDirectory).TrimEnd('/', '\\') + Path.DirectorySeparatorChar;
        string spec = Path.GetFullPath(SpecFile);
        var models = new List<ITaskItem>();
        foreach (string line in File.ReadAllLines(ModelsListFile))
        {
            string[] fields = line.Split('\t');
            if (fields.Length < 4 || !File.Exists(fields[0]))
            {
                continue;
            }

            var item = new TaskItem(fields[0]);
            item.SetMetadata("ModelName", fields[3]);
            item.SetMetadata("Source", fields[1]);
            item.SetMetadata("Spec", spec);
            item.SetMetadata("ReportPath", fields[2]);
            item.SetMetadata("OutputPath", fields[0]);
            item.SetMetadata("RelativePath", RelativeTo(root, fields[0]));
            models.Add(item);
        }

        Models = [.. models];
        return true;
    }

    // netstandard2.0 has no Path.GetRelativePath; the tool never writes outside its output folder.
    private static string RelativeTo(string root, string path)
    {
        string full = Path.GetFullPath(path);
        string relative = full.StartsWith(root, StringComparison.Ordinal) ? full.Substring(root.Length) : Path.GetFileName(full);
        return relative.Replace('\\', '/');
    }
}
