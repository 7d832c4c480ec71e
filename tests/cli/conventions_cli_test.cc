// The command line's conventions (issue 15), through the real executable:
// global options before the command, `preserve help`, usage errors in the
// user's words, package id prefixes, dates, the generated man page and bash
// completion, and JSON on failure.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>

#include "store_cli_fixture.h"

namespace preserve::testing {
namespace {

namespace json = boost::json;

class ConventionsCli : public StoreCli {
 protected:
  // Every command path ("verify", "hold add"), as the binary describes itself.
  std::vector<std::string> CommandPaths() {
    CommandResult r = testing::Run({PRESERVE_BIN, "__describe", "commands"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Lines(r.out);
  }

  // `preserve PATH... ARGS`, PATH split into its words.
  CommandResult Command(const std::string& path, const std::vector<std::string>& args) {
    std::vector<std::string> words;
    std::istringstream in(path);
    for (std::string w; in >> w;) words.push_back(w);
    words.insert(words.end(), args.begin(), args.end());
    return Preserve(words);
  }

  // The one JSON object on the last line of stdout.
  static json::object LastJson(const std::string& out) {
    auto lines = Lines(out);
    if (lines.empty()) return {};
    json::error_code ec;
    json::value v = json::parse(lines.back(), ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
};

// ---- 1. --store, --now and --json before the command ----

TEST_F(ConventionsCli, GlobalOptionsBeforeTheCommandWorkAsAfterIt) {
  const std::string id = IngestDetached();
  const std::string store = store_.string();
  // No PRESERVE_STORE: the store comes from the option alone.
  auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), PRESERVE_BIN);
    return testing::Run(args, {}, {.drop_inherited_preserve_env = true, .kill_after = std::nullopt});
  };
  CommandResult list = run({"--store", store, "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(Contains(list.out, id)) << list.out;
  CommandResult list_eq = run({"--store=" + store, "list"});
  ASSERT_EQ(list_eq.exit_code, 0) << list_eq.err;
  EXPECT_EQ(list_eq.out, list.out);

  CommandResult status = run({"--json", "--store", store, "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(LastJson(status.out).at("packages").as_int64(), 1) << status.out;

  CommandResult seal = run({"--now", "2030-01-01", "--store", store, "seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  CommandResult two_words = run({"--store", store, "--json", "hold", "list"});
  EXPECT_EQ(two_words.exit_code, 0) << two_words.err;

  // A global option the command does not take is a usage error, not dropped.
  CommandResult dropped = run({"--store", store, "verify-package", "x.zip"});
  EXPECT_EQ(dropped.exit_code, 64);
  EXPECT_TRUE(Contains(dropped.err, "--store (given before the command) does not apply")) << dropped.err;
  EXPECT_EQ(run({"--store", store}).exit_code, 64);
}

// ---- 2. preserve help ----

TEST_F(ConventionsCli, HelpCommandSaysWhatDashDashHelpSays) {
  CommandResult general = Preserve({"help"});
  ASSERT_EQ(general.exit_code, 0);
  EXPECT_EQ(general.out, Preserve({"--help"}).out);
  EXPECT_TRUE(Contains(general.out, "verify-package"));
  for (const char* cmd : {"verify", "ingest", "list", "hold", "policy", "trust", "audit-log", "retention", "tsa"}) {
    CommandResult help = Preserve({"help", cmd});
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_EQ(help.out, Preserve({cmd, "--help"}).out) << cmd;
    EXPECT_FALSE(help.out.empty()) << cmd;
  }
  CommandResult hold_add = Preserve({"help", "hold", "add"});
  EXPECT_EQ(hold_add.exit_code, 0);
  EXPECT_EQ(hold_add.out, Preserve({"hold", "add", "--help"}).out);
  EXPECT_TRUE(Contains(hold_add.out, "Usage: preserve hold add")) << hold_add.out;
  CommandResult serve = Preserve({"help", "tsa", "serve"});
  EXPECT_EQ(serve.exit_code, 0);
  EXPECT_TRUE(Contains(serve.out, "--listen")) << serve.out;

  EXPECT_EQ(Preserve({"--store", store_.string(), "help", "verify"}).out, Preserve({"verify", "--help"}).out);
  EXPECT_EQ(Preserve({"help", "nosuch"}).exit_code, 64);
  EXPECT_EQ(Preserve({"help", "hold", "nosuch"}).exit_code, 64);
  EXPECT_EQ(Preserve({"help", "verify", "extra"}).exit_code, 64);
}

// ---- 3. Usage errors in the user's words ----

TEST_F(ConventionsCli, MissingArgumentIsNamedAsTheUsageLineNamesIt) {
  CommandResult verify = Preserve({"verify"});
  EXPECT_EQ(verify.exit_code, 64);
  EXPECT_TRUE(Contains(verify.err, "preserve verify: missing PACKAGE_ID")) << verify.err;
  EXPECT_TRUE(Contains(verify.err, "Usage: preserve verify ")) << verify.err;
  EXPECT_TRUE(Contains(verify.err, "preserve help verify")) << verify.err;

  CommandResult unknown = Preserve({"list", "--bogus"});
  EXPECT_EQ(unknown.exit_code, 64);
  EXPECT_TRUE(Contains(unknown.err, "unknown option --bogus")) << unknown.err;
  EXPECT_TRUE(Contains(unknown.err, "preserve help list")) << unknown.err;

  CommandResult extra = Preserve({"verify", "0190aaaa-0000", "surplus"});
  EXPECT_EQ(extra.exit_code, 64);
  EXPECT_TRUE(Contains(extra.err, "unexpected argument 'surplus'")) << extra.err;

  CommandResult export_out = Preserve({"export", "0190aaaa-0000"});
  EXPECT_EQ(export_out.exit_code, 64);
  EXPECT_TRUE(Contains(export_out.err, "missing OUT.zip")) << export_out.err;
}

// Every command and subcommand, given nothing, an unknown option and too many
// arguments: each usage error names only options the command's --help shows,
// never an internal name for a positional argument (--package-id, --id, ...).
TEST_F(ConventionsCli, NoUsageErrorOfAnyCommandNamesAHiddenOption) {
  const std::vector<std::string> paths = CommandPaths();
  ASSERT_GE(paths.size(), 30u);
  const std::regex option_name("--[a-z][a-z0-9-]*");
  std::size_t usage_errors = 0;
  for (const auto& path : paths) {
    // Given only --store these would serve until stopped; their usage errors are checked below.
    if (path == "tsa serve" || path == "serve") continue;
    const std::string help = Command(path, {"--help"}).out;
    ASSERT_TRUE(Contains(help, "Usage: preserve " + path)) << path << ":\n" << help;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {}, {"--no-such-option"}, {"a1", "a2", "a3", "a4", "a5", "--reason", "r", "--er", "e", "--out", "o"}}) {
      CommandResult r = Command(path, args);
      if (r.exit_code != 64) continue;
      ++usage_errors;
      for (std::sregex_iterator it(r.err.begin(), r.err.end(), option_name), end; it != end; ++it) {
        const std::string name = it->str();
        if (name == "--help" || std::find(args.begin(), args.end(), name) != args.end()) continue;  // given
        EXPECT_TRUE(Contains(help, name)) << "preserve " << path << ": the usage error names " << name
                                          << ", which its --help does not show:\n" << r.err;
      }
    }
  }
  EXPECT_GE(usage_errors, paths.size());  // every command has at least its unknown option refused
  CommandResult serve = Preserve({"tsa", "serve"});
  EXPECT_EQ(serve.exit_code, 64);
  EXPECT_TRUE(Contains(serve.err, "missing --listen")) << serve.err;
  for (const auto& args : std::vector<std::vector<std::string>>{{"serve", "--no-such-option"}, {"serve", "a1"}}) {
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, 64) << r.err;
    EXPECT_TRUE(Contains(r.err, "preserve help serve")) << r.err;
  }
}

// ---- 4. Unique id prefixes ----

TEST_F(ConventionsCli, PackageIdPrefixesAreResolvedOrRefusedClearly) {
  const std::vector<std::string> ids = Ingest({SignedFixturePath("letter.txt"), "--signature",
                                               SignedFixturePath("letter.txt.p7s"), "--no-seal"});
  std::vector<std::string> more = Ingest({SignedFixturePath("letter.txt"), "--signature",
                                                SignedFixturePath("letter.txt.p7s")});
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_EQ(more.size(), 1u);
  // Ids are time-ordered (UUIDv7): their first 8 characters change every 65.5 s, so two made a moment apart
  // share them unless a boundary fell between the two. Then a third, made a moment later, shares them
  // with the second.
  std::string id = ids.front();
  const auto shared_prefix = [](const std::string& a, const std::string& b) {
    std::size_t n = 0;
    while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
    return n;
  };
  if (shared_prefix(id, more.front()) < 8) {
    id = more.front();
    more = Ingest({SignedFixturePath("letter.txt"), "--signature", SignedFixturePath("letter.txt.p7s")});
    ASSERT_EQ(more.size(), 1u);
  }
  const std::size_t common = shared_prefix(id, more.front());
  ASSERT_GE(common, 8u) << id << " " << more.front();
  const std::string unique = id.substr(0, common + 1);

  CommandResult verify = Preserve({"verify", unique, "--json"});
  EXPECT_NE(verify.exit_code, 64) << verify.err;
  EXPECT_NE(verify.exit_code, 4) << verify.err;
  CommandResult versions = Preserve({"versions", unique});
  EXPECT_EQ(versions.exit_code, 0) << versions.err;
  EXPECT_TRUE(Contains(versions.out, id)) << versions.out;
  CommandResult retention = Preserve({"retention", "show", unique});
  EXPECT_EQ(retention.exit_code, 0) << retention.err;
  EXPECT_TRUE(Contains(retention.out, "package " + id)) << retention.out;
  CommandResult hold = Preserve({"hold", "add", unique, "--reason", "audit"});
  EXPECT_EQ(hold.exit_code, 0) << hold.err;
  EXPECT_TRUE(Contains(hold.out, id)) << hold.out;
  CommandResult get = Preserve({"get", unique, "--out", (dir_ / "got").string()});
  EXPECT_EQ(get.exit_code, 0) << get.err;

  CommandResult ambiguous = Preserve({"verify", id.substr(0, 8)});
  EXPECT_EQ(ambiguous.exit_code, 64);
  EXPECT_TRUE(Contains(ambiguous.err, "ambiguous")) << ambiguous.err;
  EXPECT_TRUE(Contains(ambiguous.err, id)) << ambiguous.err;
  EXPECT_TRUE(Contains(ambiguous.err, more.front())) << ambiguous.err;

  CommandResult short_prefix = Preserve({"versions", id.substr(0, 7)});
  EXPECT_EQ(short_prefix.exit_code, 64);
  EXPECT_TRUE(Contains(short_prefix.err, "at least 8")) << short_prefix.err;

  CommandResult unknown = Preserve({"versions", "ffffffff-ffff"});
  EXPECT_EQ(unknown.exit_code, 4) << unknown.err;

  CommandResult new_version =
      Preserve({"ingest", "--new-version-of", unique, "--trust", kCliRootCa, SignedFixturePath("letter.p7m")});
  EXPECT_EQ(new_version.exit_code, 0) << new_version.err;
  EXPECT_TRUE(Contains(Preserve({"versions", id}).out, "2  ")) << Preserve({"versions", id}).out;
}

// A deleted package's id goes on naming it: its record, evidence and tombstone stay.
TEST_F(ConventionsCli, DeletedPackagesStillResolveByPrefix) {
  const std::string id = IngestDetached();
  ASSERT_FALSE(id.empty());
  const std::string prefix = id.substr(0, 13);
  ASSERT_EQ(Preserve({"retention", "set", prefix, "--years", "1", "--reason", "appraisal"}).exit_code, 0);
  CommandResult deleted = Preserve({"delete", prefix, "--reason", "destruction list", "--now", "2040-01-01"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_TRUE(Contains(deleted.out, "deleted " + id)) << deleted.out;
  CommandResult show = Preserve({"retention", "show", prefix});
  EXPECT_EQ(show.exit_code, 0) << show.err;
  EXPECT_TRUE(Contains(show.out, "deleted: 2040-01-01")) << show.out;
}

// ---- 5. Dates ----

TEST_F(ConventionsCli, DateOptionsTakeIsoAndVietnameseFormsAndRefuseBadDates) {
  for (const char* day : {"2017-11-22", "22/11/2017", "5/3/2017"}) {
    EXPECT_EQ(Preserve({"list", "--issued-from", day}).exit_code, 0) << day;
    EXPECT_EQ(Preserve({"report", "signatures", "--from", day}).exit_code, 0) << day;
    EXPECT_EQ(Preserve({"status", "--now", day}).exit_code, 0) << day;
  }
  for (const char* bad : {"2017-13-01", "2017-02-30", "22/11/17", "31/04/2017", "yesterday"}) {
    for (const auto& args : std::vector<std::vector<std::string>>{{"list", "--issued-to", bad},
                                                                  {"report", "signatures", "--to", bad},
                                                                  {"status", "--now", bad}}) {
      CommandResult r = Preserve(args);
      EXPECT_EQ(r.exit_code, 64) << args[0] << " " << bad << ": " << r.err;
      EXPECT_TRUE(Contains(r.err, args[args.size() - 2])) << r.err;  // names the option
      EXPECT_TRUE(Contains(r.err, "dd/mm/yyyy")) << r.err;          // and the forms accepted
    }
  }
  // PRESERVE_NOW is read by the same parser.
  CommandResult env = Preserve({"status"}, {"PRESERVE_NOW=2017-02-30"});
  EXPECT_EQ(env.exit_code, 4);
  EXPECT_TRUE(Contains(env.err, "PRESERVE_NOW")) << env.err;
  EXPECT_EQ(Preserve({"status"}, {"PRESERVE_NOW=22/11/2040"}).exit_code, 0);
}

// The Vietnamese form filters as the ISO form does.
TEST_F(ConventionsCli, ListFiltersByIssuedDateInEitherForm) {
  const std::string id = IngestDetached();
  (void)id;
  EXPECT_EQ(Preserve({"list", "--issued-from", "01/01/2000"}).out,
            Preserve({"list", "--issued-from", "2000-01-01"}).out);
  EXPECT_EQ(Preserve({"list", "--issued-to", "31/12/2100"}).out, Preserve({"list", "--issued-to", "2100-12-31"}).out);
}

// ---- 6. The man page and bash completion, generated from the option definitions ----

TEST_F(ConventionsCli, ManPageRendersWithoutWarningsAndNamesEveryCommand) {
  std::ifstream in(PRESERVE_MAN_PAGE);
  ASSERT_TRUE(in) << PRESERVE_MAN_PAGE;
  std::stringstream text;
  text << in.rdbuf();
  CommandResult groff = testing::Run({"groff", "-man", "-Tutf8", "-ww", "-z", PRESERVE_MAN_PAGE});
  EXPECT_EQ(groff.exit_code, 0) << groff.err;
  EXPECT_EQ(groff.err, "");
  CommandResult rendered = testing::Run({"groff", "-man", "-Tascii", "-P-cbou", PRESERVE_MAN_PAGE});
  ASSERT_EQ(rendered.exit_code, 0) << rendered.err;
  for (const auto& path : CommandPaths()) EXPECT_TRUE(Contains(rendered.out, path)) << path;
  EXPECT_TRUE(Contains(rendered.out, "--issued-from")) << rendered.out.substr(0, 2000);
  // The page is what the binary describes now (the build made it from this binary).
  EXPECT_EQ(text.str(), testing::Run({PRESERVE_BIN, "__describe", "man"}).out);
}

TEST_F(ConventionsCli, BashCompletionCompletesCommandsAndOptions) {
  auto complete = [](const std::string& line) {
    const std::string script = "source '" + std::string(PRESERVE_BASH_COMPLETION) +
                               "'\n"
                               "COMP_LINE='" + line + "'\n"
                               "read -ra COMP_WORDS <<< \"$COMP_LINE\"\n"
                               "[[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\n"
                               "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                               "_preserve\n"
                               "printf '%s\\n' \"${COMPREPLY[@]}\" | sort\n";
    CommandResult r = testing::Run({"bash", "--norc", "--noprofile", "-c", script});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Lines(r.out);
  };
  EXPECT_EQ(complete("preserve ver"),
            (std::vector<std::string>{"verify", "verify-er", "verify-package", "versions"}));
  EXPECT_EQ(complete("preserve ingest --of"), (std::vector<std::string>{"--offline"}));
  EXPECT_EQ(complete("preserve hold "), (std::vector<std::string>{"add", "list", "remove"}));
  EXPECT_EQ(complete("preserve --store /tmp hold add --rea"), (std::vector<std::string>{"--reason"}));
  EXPECT_EQ(complete("preserve list --issued-f"), (std::vector<std::string>{"--issued-from"}));
  EXPECT_EQ(complete("preserve help au"), (std::vector<std::string>{"audit-log"}));
}

// ---- 7. JSON on failure ----

TEST_F(ConventionsCli, JsonCommandsPrintAJsonResultOnFailureToo) {
  // Sealing with an external TSA nobody listens at.
  std::ifstream config_in(store_ / "config.json");
  std::stringstream config_text;
  config_text << config_in.rdbuf();
  json::object config = json::parse(config_text.str()).as_object();
  config["tsas"] = json::array{json::object{
      {"url", "http://127.0.0.1:9/tsr"}, {"trust", "tsa/ca.pem"}, {"timeout_ms", 500}, {"retries", 0}}};
  WriteFile(store_ / "config.json", json::serialize(config));
  auto ids = Ingest({SignedFixturePath("letter.txt"), "--signature", SignedFixturePath("letter.txt.p7s"),
                     "--no-seal"});
  ASSERT_EQ(ids.size(), 1u);
  CommandResult seal = Preserve({"seal", "--json"});
  EXPECT_EQ(seal.exit_code, 4) << seal.err;
  json::object failure = LastJson(seal.out);
  EXPECT_EQ(failure["ok"], json::value(false)) << seal.out;
  EXPECT_EQ(failure["exit"], json::value(4)) << seal.out;
  EXPECT_EQ(failure["command"], json::value("seal")) << seal.out;
  EXPECT_FALSE(failure["error"].as_string().empty());
  EXPECT_TRUE(Contains(seal.err, "preserve: error:")) << seal.err;  // the stderr line stays

  // No such package; a usage error; the global form; a command's own usage check.
  for (const auto& [args, code] : std::vector<std::pair<std::vector<std::string>, int>>{
           {{"verify", "--json", "ffffffff-ffff-7fff-bfff-ffffffffffff"}, 4},
           {{"verify", "--json"}, 64},
           {{"--json", "versions", "0123456"}, 64},
           {{"report", "signatures", "--by", "colour", "--json"}, 64},
           {{"list", "--json", "--issued-from", "2017-02-30"}, 64}}) {
    CommandResult r = Preserve(args);
    EXPECT_EQ(r.exit_code, code) << r.err;
    json::object o = LastJson(r.out);
    EXPECT_EQ(o["ok"], json::value(false)) << args[0] << ": " << r.out;
    EXPECT_EQ(o["exit"], json::value(code)) << r.out;
    EXPECT_EQ(Lines(r.out).size(), 1u) << r.out;
  }
  // Without --json, stdout stays empty.
  EXPECT_EQ(Preserve({"verify", "ffffffff-ffff-7fff-bfff-ffffffffffff"}).out, "");
}

}  // namespace
}  // namespace preserve::testing
