// preserve ingest: the records officer's gate, one document or a whole bundle.
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>

#include <boost/json.hpp>

#include "cli_common.h"
#include "preserve/archive/archive.h"
#include "preserve/archive/ingestion.h"
#include "preserve/archive/lifecycle.h"
#include "preserve/archive/sealing.h"
#include "preserve/ingest/bulk_input.h"
#include "preserve/ingest/scratch_space.h"
#include "preserve/util/bytes.h"
#include "preserve/util/certificates.h"
#include "preserve/util/fault_point.h"
#include "preserve/util/unicode.h"

namespace preserve::cli {

namespace json = boost::json;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A zip or tar bundle to unpack, as opposed to a signed file given directly
// (an ASiC container is a zip too, but a signed document in its own right).
bool IsBundle(const std::filesystem::path& path) {
  std::string name = Lower(path.filename().string());
  for (const char* ext : {".zip", ".tar", ".tgz", ".tar.gz", ".tar.xz", ".tar.bz2", ".txz"})
    if (EndsWith(name, ext)) return true;
  return false;
}

// Verdicts as EN 319 102-1 names them in a signature report.
std::string_view IndicationName(Verdict v) {
  switch (v) {
    case Verdict::kValid: return "TOTAL-PASSED";
    case Verdict::kInvalid: return "TOTAL-FAILED";
    case Verdict::kIndeterminate: return "INDETERMINATE";
  }
  return "INDETERMINATE";
}

json::object SignatureJson(const archive::SignatureOutcome& s) {
  const signature::SignatureReport& r = s.report;
  json::array warnings;
  for (const auto& w : r.warnings) warnings.emplace_back(w);
  return json::object{{"signature", s.label},
                      {"indication", IndicationName(r.verdict)},
                      {"sub_indication", std::string(signature::SubIndicationName(r.sub_indication))},
                      {"reason", r.reason},
                      {"signer", r.signer_subject},
                      {"signer_name", r.signer_common_name},
                      {"organization", r.signer_organization},
                      {"signing_time", r.signing_time ? FormatUtcTime(*r.signing_time) : ""},
                      {"signing_time_source", r.signing_time_source},
                      {"signing_time_claimed", r.signing_time_claimed},
                      {"digest_algorithm", r.digest_algorithm},
                      {"signature_algorithm", r.signature_algorithm},
                      {"revocation", r.revocation},
                      {"warnings", std::move(warnings)},
                      {"certificates", r.certificates.size()},
                      {"crls", r.crls.size()},
                      {"ocsp_responses", r.ocsp_responses.size()}};
}

json::object OutcomeJson(const archive::IngestOutcome& o) {
  json::array signatures;
  for (const auto& s : o.signatures) signatures.push_back(SignatureJson(s));
  json::object out;
  // The id first, as scripts written for accepted packages expect; a duplicate's names the package holding it.
  if (o.accepted || o.duplicate) out["id"] = o.package_id;
  out["input"] = o.input;
  out["outcome"] = archive::OutcomeClass(o);
  out["format"] = o.format;
  out["signatures"] = std::move(signatures);
  if (!o.category.empty()) out["category"] = o.category;
  if (!o.reason.empty()) out["reason"] = o.reason;
  if (o.metadata) out["citation"] = o.metadata->Citation();
  return out;
}

void PrintSignatureReports(const archive::IngestOutcome& o, std::ostream& out) {
  for (const auto& s : o.signatures) {
    const signature::SignatureReport& r = s.report;
    out << "  " << s.label << ": " << IndicationName(r.verdict);
    if (r.sub_indication != signature::SubIndication::kNone) out << " / " << signature::SubIndicationName(r.sub_indication);
    out << "\n";
    if (!r.reason.empty()) out << "    why: " << r.reason << "\n";
    if (!r.signer_subject.empty()) out << "    signer: " << r.signer_subject << "\n";
    if (!r.signer_organization.empty()) out << "    organization: " << r.signer_organization << "\n";
    if (r.signing_time)
      out << "    signing time: " << FormatUtcTime(*r.signing_time) << " (" << r.signing_time_source << ")\n";
    if (!r.revocation.empty()) out << "    revocation: " << r.revocation << "\n";
    for (const auto& w : r.warnings) out << "    note: " << w << "\n";
  }
}

// What the command line names: explicit files paired by name (DOC with
// DOC.p7s or --signature, DOC.metadata.json or --metadata), or a directory or
// bundle read by ingest::ReadBulkInput. An input that cannot be a submission
// (an unsigned document, a signature without its document, a link) is one
// too, marked unusable: it is counted, reported and audited like the others.
struct CommandInput {
  std::vector<archive::Submission> submissions;
};


// How the names on the command line are read: --name-encoding, and the limits for bundles.
struct InputRules {
  std::string code_page;
  ingest::BulkLimits limits;
};

constexpr const char* kNameEncodingHint = "; give its code page with --name-encoding (cp1258 for Vietnamese Windows)";

// A path given on the command line as outcomes and the audit trail show it:
// UTF-8 in NFC, decoded from the code page when it is not UTF-8, else escaped.
std::string Shown(const std::filesystem::path& path, const InputRules& rules) {
  const std::string text = path.string();
  if (!IsUtf8(text) && !rules.code_page.empty())
    if (auto decoded = DecodeCodePage(text, rules.code_page); decoded.ok()) return *decoded;
  return NameForDisplay(text);
}

// The name the package gives a file named on the command line: its own name in
// NFC, or decoded from --name-encoding when it is not UTF-8. One that cannot be
// read with the code page given is passed on as it is, and ingest refuses its
// document (NAME_INVALID); one that needs a code page none was given for stops
// the command before anything is ingested (kFailedPrecondition), so that the
// run can be repeated with --name-encoding without ingesting anything twice.
Result<std::string> RecordedFileName(const std::filesystem::path& path, const InputRules& rules) {
  const std::string name = path.filename().string();
  if (auto nfc = ToNfc(name); nfc.ok()) return nfc;
  if (rules.code_page.empty())
    return Status::FailedPrecondition(EscapeForDisplay(path.string()) + ": the name is not UTF-8" +
                                      kNameEncodingHint);
  if (auto decoded = DecodeCodePage(name, rules.code_page); decoded.ok()) return decoded;
  return name;
}

Status AddBundle(const std::filesystem::path& input, const std::filesystem::path& scratch, const InputRules& rules,
                 CommandInput& out) {
  Result<ingest::BulkInput> read = ingest::ReadBulkInput(input, scratch, rules.limits, rules.code_page);
  if (!read.ok() && read.status().code() == StatusCode::kFailedPrecondition && rules.code_page.empty())
    return Status::FailedPrecondition(read.status().message() + kNameEncodingHint);
  PRESERVE_ASSIGN_OR_RETURN(ingest::BulkInput bulk, std::move(read));
  const std::filesystem::path shown = Shown(input, rules);
  for (archive::Submission& s :
       archive::SubmissionsOf(bulk, [&](const std::string& path) { return (shown / path).string(); }))
    out.submissions.push_back(std::move(s));
  return Status::Ok();
}

// Names the files of the explicit submissions as the package will (see RecordedFileName).
Status NameExplicitFiles(CommandInput& input, std::size_t first, const InputRules& rules) {
  for (std::size_t i = first; i < input.submissions.size(); ++i) {
    archive::Submission& s = input.submissions[i];
    if (s.unusable) {
      s.name = Shown(s.name, rules);
      continue;
    }
    s.name = Shown(s.content ? *s.content : s.signature, rules);
    PRESERVE_ASSIGN_OR_RETURN(s.signature_name, RecordedFileName(s.signature, rules));
    if (s.content) {
      PRESERVE_ASSIGN_OR_RETURN(s.content_name, RecordedFileName(*s.content, rules));
    }
  }
  return Status::Ok();
}

// "2G", "500M", "64K" or a number of bytes.
std::optional<std::uint64_t> ParseSize(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0) ++digits;
  if (digits == 0 || digits > 15) return std::nullopt;
  std::uint64_t value = std::stoull(text.substr(0, digits));
  const std::string unit = Lower(text.substr(digits));
  int shift = 0;
  if (unit == "k" || unit == "kib") shift = 10;
  else if (unit == "m" || unit == "mib") shift = 20;
  else if (unit == "g" || unit == "gib") shift = 30;
  else if (unit == "t" || unit == "tib") shift = 40;
  else if (!unit.empty() && unit != "b") return std::nullopt;
  if (value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

// Explicit files: FILE.p7m, .pdf and ASiC containers stand alone; a detached
// signature (FILE.p7s, or --signature) goes with the document whose name it
// extends, or with the only document given, or is found beside the document;
// FILE.metadata.json (named, or beside FILE, or --metadata with one document)
// is the record metadata of FILE.
// Over 60 lines: the pairing rules of documents, signatures and sidecars, in one place.
Status AddFiles(const std::vector<std::filesystem::path>& files, const std::vector<std::string>& signatures,
                const std::string& metadata, CommandInput& out) {
  std::vector<std::filesystem::path> documents, detached, sidecars;
  std::vector<archive::Submission> standalone;
  for (const auto& s : signatures) detached.emplace_back(s);
  for (const auto& p : files) {
    std::string name = Lower(p.filename().string());
    if (EndsWith(name, ".metadata.json")) {
      sidecars.push_back(p);
    } else if (EndsWith(name, ".p7s")) {
      detached.push_back(p);
    } else if (EndsWith(name, ".p7m") || EndsWith(name, ".pdf") || EndsWith(name, ".asics") ||
               EndsWith(name, ".asice") || EndsWith(name, ".scs") || EndsWith(name, ".sce")) {
      standalone.push_back({p, std::nullopt, std::nullopt, ""});
    } else {
      documents.push_back(p);
    }
  }
  std::vector<bool> used(documents.size(), false);
  std::vector<archive::Submission> paired;
  for (const auto& sig : detached) {
    std::optional<std::size_t> match;
    for (std::size_t i = 0; i < documents.size(); ++i)
      if (!used[i] && documents[i].filename().string() == sig.stem().string()) match = i;
    if (!match && documents.size() == 1 && detached.size() == 1 && !used[0]) match = 0;
    if (!match) {
      // A PDF with a detached CMS beside it (letter.pdf + letter.pdf.p7s) is paired here, not taken alone.
      for (auto it = standalone.begin(); it != standalone.end(); ++it) {
        if (it->signature.filename().string() == sig.stem().string()) {
          documents.push_back(it->signature);
          used.push_back(false);
          standalone.erase(it);
          match = documents.size() - 1;
          break;
        }
      }
    }
    if (!match)
      return Status::InvalidArgument("no document given for the detached signature " + sig.string() +
                                     " (name it DOCUMENT.p7s or pass the document too)");
    used[*match] = true;
    paired.push_back({sig, documents[*match], std::nullopt, ""});
  }
  std::vector<archive::Submission> not_signed;  // named, but with no signature: refused like any other
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (used[i]) continue;
    std::filesystem::path beside = documents[i];
    beside += ".p7s";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(beside, ec)) {
      not_signed.push_back(archive::UnusableSubmission(documents[i].string(), archive::kNotSigned,
                                                       "no signature given (pass --signature FILE, or put FILE.p7s "
                                                       "beside it)"));
      continue;
    }
    paired.push_back({beside, documents[i], std::nullopt, ""});
  }
  for (auto& s : standalone) paired.push_back(std::move(s));
  for (const auto& sidecar : sidecars) {
    std::string target = sidecar.filename().string();
    target.resize(target.size() - std::string_view(".metadata.json").size());
    bool found = false;
    for (auto& s : paired) {
      const std::filesystem::path& primary = s.content ? *s.content : s.signature;
      if (primary.filename().string() == target) {
        s.metadata = sidecar;
        found = true;
      }
    }
    if (!found) return Status::InvalidArgument(sidecar.string() + ": no document named " + target + " given");
  }
  // A sidecar beside a document on disk comes with it, as in a folder.
  for (auto& s : paired) {
    if (s.metadata) continue;
    std::filesystem::path beside = s.content ? *s.content : s.signature;
    beside += ".metadata.json";
    std::error_code ec;
    if (std::filesystem::is_regular_file(beside, ec)) s.metadata = beside;
  }
  if (!metadata.empty()) {
    if (paired.size() != 1)
      return Status::InvalidArgument("--metadata names the sidecar of one document; " + std::to_string(paired.size()) +
                                     " given (use DOCUMENT.metadata.json beside each)");
    paired.front().metadata = std::filesystem::path(metadata);
  }
  for (auto& s : paired) out.submissions.push_back(std::move(s));
  for (auto& s : not_signed) out.submissions.push_back(std::move(s));
  return Status::Ok();
}

// A progress bar on stderr, when it is a terminal (a pipe or a log file gets
// the outcomes alone). Drawn after each outcome line, so that it stays on
// screen while the next group is validated; lines printed on the same
// terminal first erase it (Clear), then it is drawn again below them.
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1 && total > 1) {}
  void Draw(std::size_t done) {
    if (!enabled_) return;
    constexpr std::size_t kWidth = 30;
    std::size_t filled = total_ == 0 ? kWidth : done * kWidth / total_;
    std::cerr << "\r[" << std::string(filled, '=') << std::string(kWidth - filled, ' ') << "] " << done << "/"
              << total_ << " documents" << std::flush;
    drawn_ = true;
  }
  void Clear() {
    if (enabled_ && drawn_) std::cerr << "\r" << std::string(60, ' ') << "\r" << std::flush;
    drawn_ = false;
  }

 private:
  std::size_t total_;
  bool enabled_;
  bool drawn_ = false;
};

// The scratch space for the bundles of this run, STORE/scratch/ingest-PID-XXXXXX
// (ingest/scratch_space.h). Made as the run starts, whatever it ingests, so
// that any ingest removes, and says, what killed runs left there.
Result<std::unique_ptr<ingest::ScratchSpace>> MakeScratch(const std::filesystem::path& store) {
  std::error_code ec;
  if (!std::filesystem::is_directory(store, ec))
    return Status::NotFound("no store at " + store.string() + " (make one with 'preserve init --store " +
                            store.string() + "')");
  PRESERVE_ASSIGN_OR_RETURN(auto scratch, ingest::ScratchSpace::Create(store / "scratch"));
  for (const auto& stale : scratch->removed_stale())
    std::cerr << "removed the scratch an interrupted ingest left: " << stale.string() << "\n";
  return scratch;
}

// What `preserve ingest` was told.
struct IngestArgs {
  CommonOptions common;
  std::vector<std::string> inputs, signatures, trust, intermediates, timestamp_trust, crls, ocsp;
  std::string metadata, new_version_of, name_encoding, scratch_limit;
  bool no_seal = false, accept_indeterminate = false, offline = false, no_revocation = false, verbose = false;
  bool ids_only = false, allow_duplicate = false;
  std::size_t batch_size = 1000000;
  std::int64_t ocsp_max_age = 3600;  // seconds
};

void AddIngestOptions(po::options_description& desc, IngestArgs& a) {
  AddCommonOptions(desc, a.common, true);
  desc.add_options()
      ("trust", po::value(&a.trust), "trust anchors for the signers: PEM/DER file or directory (repeatable; required "
                                     "unless only --metadata is given with --new-version-of)")
      ("intermediates", po::value(&a.intermediates), "extra intermediate certificates: file or directory (repeatable)")
      ("timestamp-trust", po::value(&a.timestamp_trust),
       "trust anchors for signature time-stamps' TSAs (default: --trust)")
      ("signature", po::value(&a.signatures), "detached signature of a document given (repeatable)")
      ("metadata", po::value(&a.metadata), "record metadata sidecar (JSON) of the one document given")
      ("new-version-of", po::value(&a.new_version_of),
       "make a new version of this package instead of a new package: the one document given is added to it "
       "(validated as at ingest), and/or --metadata replaces its record metadata; earlier versions stay")
      ("crl", po::value(&a.crls), "CRLs to use (PEM/DER file or directory, repeatable)")
      ("ocsp-response", po::value(&a.ocsp), "OCSP responses to use (DER file, repeatable)")
      ("offline", po::bool_switch(&a.offline),
       "fetch no revocation data over the network: use what the signatures carry and --crl / --ocsp-response")
      ("no-revocation", po::bool_switch(&a.no_revocation), "do not check revocation (said so in each report)")
      ("ocsp-max-age", po::value(&a.ocsp_max_age),
       "seconds an OCSP response fetched online is reused for other documents, within its own next update "
       "(default 3600; 0: ask for every certificate). CRLs fetched online are reused until their next update; "
       "what is still fresh is kept in the store for the next ingest")
      ("accept-indeterminate", po::bool_switch(&a.accept_indeterminate),
       "accept documents whose signatures are INDETERMINATE (default: refuse them); TOTAL-FAILED is always refused")
      ("name-encoding", po::value(&a.name_encoding),
       "code page of file names that are not UTF-8 and do not say theirs: entries of zip bundles without the "
       "UTF-8 flag, tar entries, names in a folder or on the command line (cp1258 for zips made on Vietnamese Windows; any iconv "
       "name). Without it such zip names are read as CP437, the zip standard's, and any other such name stops the "
       "ingest before anything is stored. Names are recorded as UTF-8 in NFC; a zip entry flagged UTF-8 that is not "
       "is skipped, named")
      ("scratch-limit", po::value(&a.scratch_limit),
       "most bytes a bundle may unpack to (2G, 500M, ...; default 100 times the bundle's size, at least 1M, at "
       "most 4G); bundles unpack into STORE/scratch/")
      ("allow-duplicate", po::bool_switch(&a.allow_duplicate),
       "store a signed document the archive holds already (the same bytes) as a new package; by default it is "
       "reported as a duplicate of the package that holds it, and nothing is stored")
      ("ids-only", po::bool_switch(&a.ids_only),
       "print on stdout only the package id of each document accepted or already archived (for scripts); "
       "refusals go to stderr")
      ("verbose,v", po::bool_switch(&a.verbose), "print every signature's report on stderr, not only refused ones")
      ("no-seal", po::bool_switch(&a.no_seal), "leave the new packages queued; seal later with 'preserve seal'")
      ("batch-size", po::value(&a.batch_size), "most packages sealed by one time-stamp (default 1000000)");
}

// --name-encoding and --scratch-limit (and --ocsp-max-age checked); an exit code when one is not usable.
std::optional<int> ReadInputRules(const IngestArgs& a, InputRules& rules) {
  if (a.ocsp_max_age < 0) {
    std::cerr << "preserve ingest: --ocsp-max-age: seconds, 0 or more\n";
    return kExitUsage;
  }
  if (!a.name_encoding.empty()) {
    if (Status s = CheckCodePage(a.name_encoding); !s.ok()) {
      std::cerr << "preserve ingest: --name-encoding: " << s.message() << "\n";
      return kExitUsage;
    }
    rules.code_page = a.name_encoding;
  }
  if (!a.scratch_limit.empty()) {
    std::optional<std::uint64_t> bytes = ParseSize(a.scratch_limit);
    if (!bytes || *bytes == 0) {
      std::cerr << "preserve ingest: --scratch-limit: '" << a.scratch_limit << "' is not a size (2G, 500M, 64K)\n";
      return kExitUsage;
    }
    rules.limits.max_total_bytes = *bytes;
  }
  return std::nullopt;
}

// The submissions the inputs name: bundles and directories unpacked into
// `scratch`, files and --signature as given. An exit code when they cannot be.
std::optional<int> GatherInput(const IngestArgs& a, const std::filesystem::path& scratch, const InputRules& rules,
                               CommandInput& input) {
  std::vector<std::filesystem::path> files;
  std::size_t bundles = 0;
  for (const auto& i : a.inputs) {
    std::filesystem::path p(i);
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec) || IsBundle(p)) {
      if (!a.new_version_of.empty()) {
        std::cerr << "preserve ingest: --new-version-of adds one document, not a directory or bundle\n";
        return kExitUsage;
      }
      if (!a.signatures.empty() || !a.metadata.empty()) {
        std::cerr << "preserve ingest: --signature and --metadata name files of one document, not of a directory "
                     "or bundle\n";
        return kExitUsage;
      }
      std::filesystem::path unpack = scratch / std::to_string(bundles++);
      if (Status s = AddBundle(p, unpack, rules, input); !s.ok()) return ExitFor(s);
      PRESERVE_FAULT_POINT("cli.ingest.after_unpack");
    } else {
      files.push_back(p);
    }
  }
  if (!files.empty() || !a.signatures.empty()) {
    const std::size_t first = input.submissions.size();
    if (Status s = AddFiles(files, a.signatures, a.metadata, input); !s.ok()) {
      std::cerr << "preserve ingest: " << EscapeForDisplay(s.message()) << "\n";
      return kExitUsage;
    }
    if (Status s = NameExplicitFiles(input, first, rules); !s.ok()) return ExitFor(s);
  }
  return std::nullopt;
}

// What --new-version-of changes, and whether there is anything to ingest at
// all; an exit code when the command asks for nothing that can be done.
std::optional<int> CheckWhatToDo(const IngestArgs& a, const CommandInput& input, archive::VersionChange& change) {
  if (!a.new_version_of.empty()) {
    if (input.submissions.size() > 1 || (!input.submissions.empty() && input.submissions.front().unusable)) {
      std::cerr << "preserve ingest: --new-version-of adds one document at a time\n";
      return kExitUsage;
    }
    if (!input.submissions.empty()) change.document = input.submissions.front();
    // Only an explicit --metadata replaces the record's metadata, not a sidecar found beside the document.
    if (!a.metadata.empty()) change.metadata = a.metadata;
    if (!change.document && !change.metadata) {
      std::cerr << "preserve ingest: --new-version-of needs a document to add, or --metadata\n";
      return kExitUsage;
    }
  }
  if (a.trust.empty() && (a.new_version_of.empty() || change.document)) {
    std::cerr << "preserve ingest: the option '--trust' is required\n";
    return kExitUsage;
  }
  if (input.submissions.empty() && a.new_version_of.empty()) {
    std::cerr << "preserve ingest: nothing to ingest\n";
    return kExitUsage;
  }
  return std::nullopt;
}

// The validation material and revocation settings the options name.
Result<archive::IngestOptions> LoadIngestOptions(const IngestArgs& a) {
  archive::IngestOptions options;
  using Loader = Result<std::vector<Bytes>> (*)(const std::filesystem::path&);
  auto load = [](const std::vector<std::string>& paths, const char* what, Loader loader,
                 std::vector<Bytes>& out) -> Status {
    for (const auto& p : paths) {
      auto loaded = loader(p);
      if (!loaded.ok()) return loaded.status().WithContext(what);
      out.insert(out.end(), loaded->begin(), loaded->end());
    }
    return Status::Ok();
  };
  for (Status s : {load(a.trust, "--trust", LoadCertificates, options.trust_anchors),
                   load(a.intermediates, "--intermediates", LoadCertificates, options.intermediates),
                   load(a.timestamp_trust, "--timestamp-trust", LoadCertificates, options.timestamp_trust_anchors),
                   load(a.crls, "--crl", LoadCrls, options.revocation.crls),
                   load(a.ocsp, "--ocsp-response", LoadOcspResponses, options.revocation.ocsp_responses)})
    if (!s.ok()) return s;
  options.revocation.online = !a.offline;
  options.revocation.ocsp_max_age = std::chrono::seconds(a.ocsp_max_age);
  options.revocation.check = !a.no_revocation;
  options.accept_indeterminate = a.accept_indeterminate;
  options.allow_duplicate = a.allow_duplicate;
  return options;
}

// Tells each outcome as it comes, once durable: one line per input on stdout
// ("INPUT -> ID", "INPUT -> duplicate of ID", "INPUT -> refused: REASON",
// "INPUT -> not a signed document: REASON"), or with --ids-only the ids alone
// (refusals then on stderr), or with --json one object per input; and counts
// each input in exactly one class.
class IngestReporter {
 public:
  IngestReporter(const IngestArgs& a, const CommandInput& input)
      : a_(a), progress_(input.submissions.size()) {
    progress_.Draw(0);
  }

  void operator()(const archive::IngestOutcome& o) {
    progress_.Clear();
    Count(o);
    const bool lines = !a_.common.json && !a_.ids_only;
    if (a_.common.json) std::cout << json::serialize(OutcomeJson(o)) << "\n";
    if (lines) std::cout << o.input << " -> " << Described(o) << "\n";
    if (a_.ids_only && (o.accepted || o.duplicate)) std::cout << o.package_id << "\n";
    std::cout << std::flush;
    if (o.accepted) PRESERVE_FAULT_POINT("cli.ingest.after_ack");
    // Without the lines on stdout, what went wrong still reaches the officer.
    if (o.error) std::cerr << "error: " << o.input << ": " << o.reason << "\n";
    else if (!lines && !o.accepted && !o.duplicate) std::cerr << "refused: " << o.input << ": " << o.reason << "\n";
    if (a_.verbose) {
      if (o.accepted) std::cerr << "accepted: " << o.input << " as " << o.package_id << "\n";
      if (o.accepted || !o.duplicate) PrintSignatureReports(o, std::cerr);
    }
    progress_.Draw(++done_);
  }

  // The counts, when there was more than one input: on stderr, and with --json as a last object.
  void Summarize(std::size_t inputs) {
    progress_.Clear();
    if (a_.common.json)
      std::cout << json::serialize(json::object{{"summary", json::object{{"inputs", inputs},
                                                                          {"accepted", accepted_},
                                                                          {"duplicate", duplicate_},
                                                                          {"refused", refused_},
                                                                          {"not_signed", not_signed_},
                                                                          {"error", failed_}}}})
                << "\n" << std::flush;
    if (inputs <= 1) return;
    std::cerr << "ingest: " << accepted_ << " accepted, " << duplicate_ << " already archived, " << refused_
              << " refused, " << not_signed_ << " not signed";
    if (failed_ > 0) std::cerr << ", " << failed_ << " unreadable";
    std::cerr << " (of " << inputs << ")\n";
  }

  std::size_t accepted() const { return accepted_; }
  std::size_t refused() const { return refused_ + not_signed_; }
  std::size_t failed() const { return failed_; }

 private:
  static std::string Described(const archive::IngestOutcome& o) {
    if (o.accepted) return o.package_id;
    if (o.duplicate) return "duplicate of " + o.package_id + " (already archived)";
    if (o.error) return "error: " + o.reason;
    if (o.category == archive::kNotSigned) {
      // The reason starts with its category, which the words before it already say.
      const std::string prefix = std::string(archive::kNotSigned) + ": ";
      return "not a signed document: " + (o.reason.rfind(prefix, 0) == 0 ? o.reason.substr(prefix.size()) : o.reason);
    }
    return "refused: " + o.reason;
  }

  void Count(const archive::IngestOutcome& o) {
    if (o.error) ++failed_;
    else if (o.accepted) ++accepted_;
    else if (o.duplicate) ++duplicate_;
    else if (o.category == archive::kNotSigned) ++not_signed_;
    else ++refused_;
  }

  const IngestArgs& a_;
  std::size_t accepted_ = 0, duplicate_ = 0, refused_ = 0, not_signed_ = 0, failed_ = 0, done_ = 0;
  Progress progress_;
};

// Ingests (or adds the version), then seals what was accepted unless --no-seal.
int RunIngest(const IngestArgs& a, archive::Archive& archive, const CommandInput& input,
              const archive::VersionChange& change, const archive::IngestOptions& options) {
  IngestReporter report(a, input);
  Status status = Status::Ok();
  if (a.new_version_of.empty()) {
    status = archive::Ingestion(archive).IngestAll(input.submissions, options, std::ref(report));
  } else {
    auto outcome = archive::Lifecycle(archive).AddVersion(a.new_version_of, change, options);
    if (outcome.ok()) report(outcome.value());
    status = outcome.status();
  }
  report.Summarize(input.submissions.size());
  if (!status.ok()) return ExitFor(status);
  if (report.accepted() > 0 && !a.no_seal) {
    auto sealed = archive::Sealing(archive).Seal(a.batch_size);
    if (!sealed.ok()) {
      std::cerr << "preserve: the accepted packages are stored and queued, but sealing failed (run 'preserve seal' "
                   "again): "
                << sealed.status().message() << "\n";
      return kExitError;
    }
    PrintSeal(sealed.value());
  }
  if (report.failed() > 0) return kExitError;
  return report.refused() > 0 ? kExitRefused : kExitOk;
}

}  // namespace

int CmdIngest(int argc, char** argv) {
  IngestArgs a;
  po::options_description desc("Options");
  AddIngestOptions(desc, a);
  po::options_description hidden;
  hidden.add_options()("input", po::value(&a.inputs), "INPUT");
  po::positional_options_description positional;
  positional.add("input", -1);
  po::variables_map vm;
  const std::string usage =
      "--trust CA [options] INPUT...\n"
      "       preserve ingest --new-version-of PACKAGE_ID [--trust CA DOCUMENT] [--metadata FILE] [options]\n"
      "  INPUT: DOCUMENT (with DOCUMENT.p7s or --signature), SIGNED.p7m, SIGNED.pdf, CONTAINER.asice/.asics,\n"
      "         a directory, or a .zip / .tar(.gz) bundle of those; DOCUMENT.metadata.json beside a document\n"
      "         (or --metadata) is its record metadata. Files must be regular files (or links to one): a device\n"
      "         or a FIFO is refused unread";
  if (auto done = ParseCommand("ingest", argc, argv, desc, hidden, positional, vm, usage)) return *done;

  if (a.ids_only && a.common.json) {
    std::cerr << "preserve ingest: --ids-only and --json are two different outputs: give one\n";
    return kExitUsage;
  }
  InputRules rules;
  if (auto failed = ReadInputRules(a, rules)) return *failed;
  auto store = StorePath(a.common);
  if (!store.ok()) {
    std::cerr << "preserve: " << store.status().message() << "\n";
    return kExitUsage;
  }
  // Removed, with what was unpacked, however the command ends (but SIGKILL: then by the next ingest).
  auto scratch = MakeScratch(*store);
  if (!scratch.ok()) return ExitFor(scratch.status());
  CommandInput input;
  if (auto failed = GatherInput(a, (*scratch)->path(), rules, input)) return *failed;
  archive::VersionChange change;
  if (auto failed = CheckWhatToDo(a, input, change)) return *failed;

  auto clock = MakeClock(a.common);
  if (!clock.ok()) return ExitFor(clock.status());
  auto options = LoadIngestOptions(a);
  if (!options.ok()) return ExitFor(options.status());
  int exit_code = kExitOk;
  auto archive = OpenArchive(a.common, *clock.value(), archive::OpenMode::kWritable, exit_code);
  if (!archive) return exit_code;
  if (!a.new_version_of.empty())
    if (auto failed = ResolvePackageArgument(*archive, a.new_version_of)) return *failed;
  return RunIngest(a, *archive, input, change, options.value());
}

}  // namespace preserve::cli
