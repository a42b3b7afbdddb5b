using System;
using System.Globalization;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Compress.Tasks;

/// <summary>
/// Compresses the models of one compress.yaml by running the <c>compress</c> tool
/// (<c>dotnet compress.dll run ...</c>) in its own process. ONNX Runtime and the rest of the engine
/// never load into MSBuild; a crash in them fails this task instead of the build node.
/// </summary>
/// <remarks>
/// The tool prints diagnostics in MSBuild's canonical form (<c>file(line,col): error CMP0002: ...</c>)
/// on stdout or stderr; <see cref="ToolTask"/> turns each such line into an error or warning with
/// file, position and code. Cancelling the build (Ctrl+C) kills the tool's process tree.
/// </remarks>
public sealed class CompressModels : ToolTask
{
    // Printed by `compress run --verbose` before each decision line.
    private const string DetailPrefix = "compress: detail: ";

    private volatile bool _canceled;

    /// <summary>The compress.yaml to run.</summary>
    [Required]
    public string SpecFile { get; set; } = string.Empty;

    /// <summary>Path of the tool assembly, <c>compress.dll</c>.</summary>
    [Required]
    public string ToolAssemblyPath { get; set; } = string.Empty;

    /// <summary>Folder the compressed models and their reports are written to.</summary>
    [Required]
    public string OutputDirectory { get; set; } = string.Empty;

    /// <summary>
    /// File the tool writes on success: every file the result depends on, one absolute path a line.
    /// Optional.
    /// </summary>
    public string? InputsListFile { get; set; }

    /// <summary>
    /// File the tool writes on success: every file it wrote, one absolute path a line. Optional.
    /// </summary>
    public string? OutputsListFile { get; set; }

    /// <summary>File the tool writes on success: one line per model (output, source, report, name). Optional.</summary>
    public string? ModelsListFile { get; set; }

    /// <summary>The project's own cache folder (looked up first). Empty: none.</summary>
    public string? CacheDirectory { get; set; }

    /// <summary>A cache folder shared by projects (looked up second). Empty: none.</summary>
    public string? SharedCacheDirectory { get; set; }

    /// <summary><c>error</c> or <c>warning</c>: how a model that misses its accuracy budget is reported. Empty: the tool's default (error).</summary>
    public string? AccuracyFailureSeverity { get; set; }

    /// <summary>Write the models without running their passes (configurations excluded by <c>CompressOnlyInConfiguration</c>).</summary>
    public bool SkipPasses { get; set; }

    /// <summary>Ask the tool for its per-pass decisions; they are logged at low importance (visible with <c>-v:d</c>).</summary>
    public bool LogDecisions { get; set; }

    /// <summary>
    /// The dotnet host to run the tool with. Empty: DOTNET_HOST_PATH, else <c>dotnet</c> on PATH.
    /// </summary>
    public string? DotNetHostPath { get; set; }

    /// <inheritdoc />
    protected override string ToolName => DotNetHostLocator.HostFileName;

    // The per-model summary lines are worth seeing at normal verbosity, not only at detailed.
    /// <inheritdoc />
    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.Normal;

    /// <inheritdoc />
    public override void Cancel()
    {
        _canceled = true;
        base.Cancel();
    }

    /// <inheritdoc />
    protected override string GenerateFullPathToTool() =>
        DotNetHostLocator.Locate(DotNetHostPath, Environment.GetEnvironmentVariable) ?? ToolName;

    /// <inheritdoc />
    protected override bool ValidateParameters()
    {
        if (!File.Exists(ToolAssemblyPath))
        {
            Log.LogError(
                subcategory: null,
                errorCode: TaskDiagnosticCodes.ToolNotFound,
                helpKeyword: null,
                file: null,
                lineNumber: 0,
                columnNumber: 0,
                endLineNumber: 0,
                endColumnNumber: 0,
                message: $"The compress tool '{ToolAssemblyPath}' does not exist. Set CompressToolPath to the compress.dll to use, or restore the Compress.Tasks package again.");
        }

        if (string.IsNullOrEmpty(ToolPath) && string.IsNullOrEmpty(DotNetHostPath)
            && DotNetHostLocator.Locate(null, Environment.GetEnvironmentVariable) is null)
        {
            Log.LogError(
                subcategory: null,
                errorCode: TaskDiagnosticCodes.ToolNotFound,
                helpKeyword: null,
                file: null,
                lineNumber: 0,
                columnNumber: 0,
                endLineNumber: 0,
                endColumnNumber: 0,
                message: "No dotnet host found to run the compress tool: DOTNET_HOST_PATH is not set and 'dotnet' is not on PATH. Set CompressDotNetHostPath to the dotnet executable.");
        }

        if (!string.IsNullOrEmpty(AccuracyFailureSeverity)
            && !string.Equals(AccuracyFailureSeverity, "error", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(AccuracyFailureSeverity, "warning", StringComparison.OrdinalIgnoreCase))
        {
            Log.LogError(
                subcategory: null,
                errorCode: TaskDiagnosticCodes.InvalidProperty,
                helpKeyword: null,
                file: null,
                lineNumber: 0,
                columnNumber: 0,
                endLineNumber: 0,
                endColumnNumber: 0,
                message: $"CompressAccuracyFailureSeverity is '{AccuracyFailureSeverity}'; use 'error' or 'warning'.");
        }

        return !Log.HasLoggedErrors && base.ValidateParameters();
    }

    /// <inheritdoc />
    protected override string GenerateCommandLineCommands()
    {
        var builder = new CommandLineBuilder();
        builder.AppendFileNameIfNotNull(Path.GetFullPath(ToolAssemblyPath));
        builder.AppendTextUnquoted(" run");
        builder.AppendFileNameIfNotNull(Path.GetFullPath(SpecFile));
        builder.AppendSwitchIfNotNull("--output ", FullDirectoryPath(OutputDirectory));
        AppendOptionalFile(builder, "--inputs-list ", InputsListFile);
        AppendOptionalFile(builder, "--outputs-list ", OutputsListFile);
        AppendOptionalFile(builder, "--models-list ", ModelsListFile);
        if (!string.IsNullOrEmpty(CacheDirectory))
        {
            builder.AppendSwitchIfNotNull("--cache-dir ", FullDirectoryPath(CacheDirectory!));
        }

        if (!string.IsNullOrEmpty(SharedCacheDirectory))
        {
            builder.AppendSwitchIfNotNull("--shared-cache-dir ", FullDirectoryPath(SharedCacheDirectory!));
        }

        if (!string.IsNullOrEmpty(AccuracyFailureSeverity))
        {
            builder.AppendSwitchIfNotNull("--on-accuracy-failure ", AccuracyFailureSeverity!.ToLowerInvariant());
        }

        if (SkipPasses)
        {
            builder.AppendSwitch("--skip-passes");
        }

        if (LogDecisions)
        {
            builder.AppendSwitch("--verbose");
        }

        return builder.ToString();
    }

    /// <inheritdoc />
    // The tool's --verbose lines (skipped nodes, notes) are decisions for -v:d, not for the normal log.
    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance) =>
        base.LogEventsFromTextOutput(
            singleLine,
            singleLine.StartsWith(DetailPrefix, StringComparison.Ordinal) ? MessageImportance.Low : messageImportance);

    /// <inheritdoc />
    // Relative paths in the spec are resolved by the tool against the spec's folder; running there
    // keeps anything else the tool might resolve predictable as well.
    protected override string? GetWorkingDirectory() => Path.GetDirectoryName(Path.GetFullPath(SpecFile));

    /// <inheritdoc />
    protected override bool HandleTaskExecutionErrors()
    {
        if (_canceled || HasLoggedErrors)
        {
            // The tool said what went wrong (or the user stopped the build): one message is enough.
            return base.HandleTaskExecutionErrors();
        }

        Log.LogError(
            subcategory: null,
            errorCode: TaskDiagnosticCodes.ToolFailed,
            helpKeyword: null,
            file: SpecFile,
            lineNumber: 0,
            columnNumber: 0,
            endLineNumber: 0,
            endColumnNumber: 0,
            message: string.Format(
                CultureInfo.InvariantCulture,
                "The compress tool exited with code {0} without reporting an error. Build with -v:n to see its output.",
                ExitCode));
        return false;
    }

    private static void AppendOptionalFile(CommandLineBuilder builder, string switchName, string? path)
    {
        if (!string.IsNullOrEmpty(path))
        {
            builder.AppendSwitchIfNotNull(switchName, Path.GetFullPath(path));
        }
    }

    // A trailing separator would escape the closing quote on Windows ("C:\out\" -> C:\out").
    private static string FullDirectoryPath(string path) =>
        Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
}
