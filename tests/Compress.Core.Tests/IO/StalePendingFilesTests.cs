using Compress.Core.IO;
using Compress.Core.Tests.Onnx;

namespace Compress.Core.Tests.IO;

public class StalePendingFilesTests
{
    private static readonly DateTime RunStart = new(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    [Test]
    public void TheTemporaryNameOfAPendingFileIsRecognised()
    {
        using var folder = new TempFolder();

        var pending = new PendingFile(folder.File("model.onnx"));

        Assert.That(PendingFile.IsTempFileName(Path.GetFileName(pending.TempPath)), Is.True, pending.TempPath);
    }

    [Test]
    public void RemovesOnlyPendingFileNamesWrittenBeforeTheRunDirectlyInTheFolder()
    {
        using var folder = new TempFolder();
        string stale = Write(folder.File(".model.onnx.0123456789abcdef0123456789abcdef.tmp"), RunStart.AddMinutes(-5));
        Write(folder.File(".model.onnx.fedcba9876543210fedcba9876543210.tmp"), RunStart.AddSeconds(1)); // written during this run
        Write(folder.File("model.onnx"), RunStart.AddMinutes(-5));
        Write(folder.File("notes.tmp"), RunStart.AddMinutes(-5)); // a user's file
        Write(folder.File(".model.onnx.0123456789abcdef.tmp"), RunStart.AddMinutes(-5)); // not 32 hex digits
        Write(folder.File("model.onnx.0123456789abcdef0123456789abcdef.tmp"), RunStart.AddMinutes(-5)); // no leading dot
        Directory.CreateDirectory(folder.File("sub"));
        Write(folder.File("sub/.m.onnx.0123456789abcdef0123456789abcdef.tmp"), RunStart.AddMinutes(-5)); // folder not given

        IReadOnlyList<string> removed = StalePendingFiles.Remove([folder.Path, folder.File("absent")], RunStart);

        Assert.That(removed, Is.EqualTo(new[] { stale }));
        Assert.That(folder.FileList(), Is.EqualTo(string.Join(',',
            ".model.onnx.0123456789abcdef.tmp",
            ".model.onnx.fedcba9876543210fedcba9876543210.tmp",
            "model.onnx",
            "model.onnx.0123456789abcdef0123456789abcdef.tmp",
            "notes.tmp",
            Path.Combine("sub", ".m.onnx.0123456789abcdef0123456789abcdef.tmp"))));
    }

    [Test]
    public void LeavesAPendingFileThatIsStillBeingWritten()
    {
        using var folder = new TempFolder();
        using var pending = new PendingFile(folder.File("model.onnx"));
        using FileStream writing = pending.OpenWrite();
        writing.Write([1, 2, 3]);
        writing.Flush();
        File.SetLastWriteTimeUtc(pending.TempPath, RunStart.AddMinutes(-5));

        IReadOnlyList<string> removed = StalePendingFiles.Remove([folder.Path], RunStart);

        Assert.That(removed, Is.Empty);
        Assert.That(File.Exists(pending.TempPath), Is.True);
    }

    private static string Write(string path, DateTime lastWriteUtc)
    {
        File.WriteAllBytes(path, [42]);
        File.SetLastWriteTimeUtc(path, lastWriteUtc);
        return path;
    }
}
