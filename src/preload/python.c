/*
 * runcell-python: the preloader of Python 3 (src/sandbox/preload.c says
 * what a preloader is and how it is confined).  It starts the interpreter
 * once, the way /usr/bin/python3 starts it (the same library, program
 * name, environment, site and signal handlers), and each run forked from
 * it does what `python3 SCRIPT ARGS...` or `python3 -c CODE ARGS...` does
 * after its start: sys.argv, the script's directory (or "", for -c) first
 * on sys.path, the script or code run as __main__, the same exit status
 * (1 after an uncaught exception, SystemExit's code, 120 when the final
 * flush fails).
 *
 * What differs from a fresh interpreter (docs/SANDBOX.md): the hash seed
 * is the preloader's, the same for every run of the cell, and the modules
 * Python imports at its start are already imported.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

/* python3's option whose argument is the program: served, as a script is. */
#define CODE_OPTION "-c"

/* The names in sys.modules after the start. */
static PyObject *start_modules;
/* The interpreter's program, as started (a run may name it otherwise). */
static const char *python_program;

static int python_start(const char *program, char *why, size_t len)
{
	python_program = program;
	PyConfig config;
	PyConfig_InitPythonConfig(&config);
	config.parse_argv = 0;
	char *argv[] = { (char *)program, NULL };
	PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, program);
	if (!PyStatus_Exception(st))
		st = PyConfig_SetBytesArgv(&config, 1, argv);
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(st)) {
		snprintf(why, len, "cannot start Python as %s: %s", program,
			 st.err_msg ? st.err_msg : "error");
		return -1;
	}
	/* What the start imported, and gc.freeze(): the collector of a run
	 * skips every object the preloader made, so it never writes to them
	 * (each such write copies a page).  Kept in the run, where it matters
	 * for the end (python_finish). */
	PyObject *modules = PySys_GetObject("modules");  /* borrowed */
	start_modules = modules ? PyFrozenSet_New(modules) : NULL;
	bool had_gc = modules && PyDict_GetItemString(modules, "gc");
	PyObject *gc = PyImport_ImportModule("gc");
	PyObject *frozen = gc ? PyObject_CallMethod(gc, "freeze", NULL) : NULL;
	bool ok = frozen && start_modules;
	Py_XDECREF(frozen);
	Py_XDECREF(gc);
	/* sys.modules as python3 has it after its start, without gc */
	if (ok && !had_gc && PyDict_DelItemString(modules, "gc") < 0)
		ok = false;
	if (!ok) {
		PyErr_Clear();
		snprintf(why, len, "cannot prepare Python for forking (gc.freeze)");
		return -1;
	}
	return 0;
}

static void python_before_fork(void)
{
	PyOS_BeforeFork();
}

static void python_after_fork_parent(void)
{
	PyOS_AfterFork_Parent();
}

/* A list of str from C strings, decoded as Python decodes argv. */
static PyObject *str_list(char *const *v)
{
	PyObject *list = PyList_New(0);
	for (; list && *v; v++) {
		PyObject *s = PyUnicode_DecodeFSDefault(*v);
		if (!s || PyList_Append(list, s) < 0) {
			Py_XDECREF(s);
			Py_DECREF(list);
			return NULL;
		}
		Py_DECREF(s);
	}
	return list;
}

/* The exit status of an uncaught exception, printed as python3 prints it:
 * SystemExit's code (its text on stderr and 1 when it is not an int),
 * otherwise the traceback and 1. */
static int exception_status(void)
{
	if (!PyErr_ExceptionMatches(PyExc_SystemExit)) {
		PyErr_Print();
		return 1;
	}
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	PyObject *code = value ? PyObject_GetAttrString(value, "code") : NULL;
	int status = 0;
	if (!code) {
		PyErr_Clear();
	} else if (code == Py_None) {
		status = 0;
	} else if (PyLong_Check(code)) {
		status = (int)PyLong_AsLong(code);
		PyErr_Clear();
	} else {
		PyObject *err = PySys_GetObject("stderr");  /* borrowed */
		if (err && err != Py_None && PyFile_WriteObject(code, err, Py_PRINT_RAW) == 0)
			PyFile_WriteString("\n", err);
		PyErr_Clear();
		status = 1;
	}
	Py_XDECREF(code);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	return status;
}

/* Whether the script ended with an uncaught KeyboardInterrupt: python3
 * then dies of SIGINT once it has finished, so that its parent sees it. */
static bool uncaught_interrupt;

/* The end of a run of __main__'s code: its status, and whether it ended
 * with an uncaught KeyboardInterrupt. */
static int main_status(PyObject *result)
{
	/* KeyboardInterrupt itself, not a subclass, as pythonrun.c checks */
	uncaught_interrupt = !result && PyErr_Occurred() == PyExc_KeyboardInterrupt;
	int status = result ? 0 : exception_status();
	Py_XDECREF(result);
	return status;
}

/* The script as __main__, as PyRun_SimpleFile runs it for python3, but
 * with the exception left to exception_status. */
static int run_main(FILE *fp, const char *path)
{
	PyObject *main_dict = PyModule_GetDict(PyImport_AddModule("__main__"));  /* borrowed */
	PyObject *file = PyUnicode_DecodeFSDefault(path);
	PyObject *name = PyUnicode_FromString("_frozen_importlib_external");
	PyObject *external = name ? PyImport_GetModule(name) : NULL;  /* imported at the start */
	Py_XDECREF(name);
	PyObject *loader = external ? PyObject_CallMethod(external, "SourceFileLoader", "sO",
							   "__main__", file) : NULL;
	if (!file || !loader || PyDict_SetItemString(main_dict, "__file__", file) < 0 ||
	    PyDict_SetItemString(main_dict, "__cached__", Py_None) < 0 ||
	    PyDict_SetItemString(main_dict, "__loader__", loader) < 0) {
		PyErr_Print();
		fclose(fp);
		return 1;
	}
	Py_DECREF(file);
	Py_DECREF(external);
	Py_DECREF(loader);
	PyCompilerFlags flags = _PyCompilerFlags_INIT;
	return main_status(PyRun_FileExFlags(fp, path, Py_file_input, main_dict, main_dict, 1,
					     &flags));
}

/* -c CODE as python3 runs it (pymain_run_command): the code back in UTF-8,
 * its coding cookie ignored, run as __main__ from "<string>". */
static int run_code(const char *code)
{
	PyObject *text = PyUnicode_DecodeFSDefault(code);
	PyObject *bytes = text ? PyUnicode_AsUTF8String(text) : NULL;
	Py_XDECREF(text);
	if (!bytes) {
		PySys_WriteStderr("Unable to decode the command from the command line:\n");
		PyErr_Print();
		return 1;
	}
	PyObject *main_dict = PyModule_GetDict(PyImport_AddModule("__main__"));  /* borrowed */
	PyCompilerFlags flags = _PyCompilerFlags_INIT;
	flags.cf_flags |= PyCF_IGNORE_COOKIE;
	int status = main_status(PyRun_StringFlags(PyBytes_AS_STRING(bytes), Py_file_input,
						   main_dict, main_dict, &flags));
	Py_DECREF(bytes);
	return status;
}

static int flush_std(const char *name)
{
	PyObject *f = PySys_GetObject(name);  /* borrowed */
	if (!f || f == Py_None)
		return 0;
	PyObject *r = PyObject_CallMethod(f, "flush", NULL);
	if (r) {
		Py_DECREF(r);
		return 0;
	}
	PyErr_WriteUnraisable(f);
	return -1;
}

/* What Py_FinalizeEx does that a program can see, without tearing down
 * the modules of the start: each such teardown writes to every object
 * the preloader made, copying its pages (30 ms of a 45 ms run here).  In
 * Py_FinalizeEx's order: non-daemon threads are waited for, atexit
 * functions run, stdout and stderr are flushed (120 when that fails);
 * then the program's own objects go: __main__'s and those of the modules
 * it imported, then its garbage cycles, each with its __del__. */
static int python_finish(int status)
{
	/* Only modules the run imported can have threads or functions to
	 * wait for (an import here would cost as much as the run). */
	static const char *const steps[][2] = { { "threading", "_shutdown" },
						 { "atexit", "_run_exitfuncs" } };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		PyObject *name = PyUnicode_FromString(steps[i][0]);
		PyObject *mod = name ? PyImport_GetModule(name) : NULL;
		PyObject *r = mod ? PyObject_CallMethod(mod, steps[i][1], NULL) : NULL;
		if (mod && !r)
			PyErr_WriteUnraisable(mod);
		PyErr_Clear();
		Py_XDECREF(r);
		Py_XDECREF(mod);
		Py_XDECREF(name);
	}
	if (flush_std("stdout") < 0 || flush_std("stderr") < 0)
		status = 120;

	/* The run's modules first, read with borrowed references (no write
	 * to the preloader's objects), then cleared (a __del__ may import). */
	PyObject *modules = PySys_GetObject("modules");  /* borrowed */
	PyObject *own = PyList_New(0), *name, *mod;
	Py_ssize_t pos = 0;
	while (own && modules && PyDict_Next(modules, &pos, &name, &mod)) {
		bool run_main = PyUnicode_Check(name) &&
				PyUnicode_CompareWithASCIIString(name, "__main__") == 0;
		if ((run_main || PySet_Contains(start_modules, name) == 0) && PyModule_Check(mod))
			PyList_Append(own, mod);
	}
	for (Py_ssize_t i = 0; own && i < PyList_GET_SIZE(own); i++)
		PyDict_Clear(PyModule_GetDict(PyList_GET_ITEM(own, i)));
	Py_XDECREF(own);
	PyGC_Collect();
	PyErr_Clear();
	flush_std("stdout");
	flush_std("stderr");
	return status;
}

/* Not a directory, and not a zip file (python3 runs either as a package).
 * A zip file ends with its end-of-central-directory record, found in the
 * last 64 KiB + 22 bytes, as zipimport looks for it; asking zipimport
 * itself ran Python code that wrote to ~100 of the preloader's pages, each
 * a page copy in the run. */
static bool is_plain_script(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return true;  /* run_main says why, as python3 does */
	bool plain = fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode);
	if (plain && S_ISREG(st.st_mode) && st.st_size >= 22) {
		static char tail[65536 + 22];
		off_t n = st.st_size < (off_t)sizeof(tail) ? st.st_size : (off_t)sizeof(tail);
		ssize_t got = pread(fd, tail, (size_t)n, st.st_size - n);
		plain = got < 4 || !memmem(tail, (size_t)got, "PK\005\006", 4);
	}
	close(fd);
	return plain;
}

/* The process's exit status after __main__ ended with status. */
static int end_of_run(int status)
{
	status = python_finish(status);
	if (uncaught_interrupt) {
		/* as Py_RunMain's exit_sigint: 130 if the signal did not kill */
		signal(SIGINT, SIG_DFL);
		kill(getpid(), SIGINT);
		status = 128 + SIGINT;
	}
	return status;
}

/* sys.argv, sys.orig_argv and sys.path[0] of the run: for a script,
 * [SCRIPT, ARGS...] and its directory; for -c, ["-c", ARGS...] (the code
 * is not in it) and "", the working directory. */
static void set_run_sys(char *const *argv, bool code, const char *path0)
{
	PyObject *args = str_list(argv + (code ? 2 : 1)), *orig = str_list(argv);
	PyObject *first = PyUnicode_DecodeFSDefault(path0);
	PyObject *opt = code ? PyUnicode_FromString(CODE_OPTION) : NULL;
	PyObject *sys_path = PySys_GetObject("path");  /* borrowed */
	if (code && args && (!opt || PyList_SetItem(args, 0, opt) < 0))
		Py_CLEAR(args);  /* SetItem took opt, even when it failed */
	if (!args || !orig || !first || !sys_path || PySys_SetObject("argv", args) < 0 ||
	    PySys_SetObject("orig_argv", orig) < 0 || PyList_Insert(sys_path, 0, first) < 0) {
		PyErr_Print();
		exit(1);
	}
	Py_DECREF(args);
	Py_DECREF(orig);
	Py_DECREF(first);
}

static void python_run(char *const *argv) __attribute__((noreturn));
static void python_run(char *const *argv)
{
	PyOS_AfterFork_Child();
	/* Python ignores both at its start; the confinement set them back. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);

	if (strcmp(argv[1], CODE_OPTION) == 0) {
		set_run_sys(argv, true, "");
		_exit(end_of_run(run_code(argv[2])));
	}
	/* The script by absolute path, as python3 makes it (__file__, the
	 * traceback); sys.argv[0] as given. */
	const char *script = argv[1];
	char path[2 * PATH_MAX], cwd[PATH_MAX];
	if (script[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(path, sizeof(path), "%s/%s", strcmp(cwd, "/") ? cwd : "", script);
	else
		snprintf(path, sizeof(path), "%s", script);
	/* A directory or a zip file is run as a package (its __main__.py)
	 * by python3: this process becomes python3 for it, already confined
	 * and with the same environment. */
	if (!is_plain_script(path)) {
		execv(python_program, argv);
		fprintf(stderr, "%s: cannot execute: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* sys.path[0]: the directory of the script, links resolved. */
	char real[PATH_MAX], dir[2 * PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", realpath(path, real) ? real : path);
	set_run_sys(argv, false, dirname(dir));

	FILE *fp = fopen(path, "rbe");
	if (!fp) {
		fprintf(stderr, "%s: can't open file '%s': [Errno %d] %s\n", argv[0], path, errno,
			strerror(errno));
		_exit(python_finish(2));
	}
	_exit(end_of_run(run_main(fp, path)));
}

static const struct sandbox_preload_ops python_ops = {
	.start = python_start,
	.before_fork = python_before_fork,
	.after_fork_parent = python_after_fork_parent,
	.run = python_run,
	.code_option = CODE_OPTION,
};

int main(int argc, char **argv)
{
	return sandbox_preload_main(argc, argv, &python_ops);
}
