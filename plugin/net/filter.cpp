#include "net/filter.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <optional>

#include "core/log.h"
#include "net/filter_lexer.h"

namespace filter_detail {

enum class Type { Bool, Int, String };
enum class Kind { Literal, Key, Not, Compare, And, Or, IpnetContains, HasPrefix };
enum class Key { Tcp, Udp, Ipv4, Ipv6, SrcPort, DstPort, IpSaddr, IpDaddr, Ip6Saddr, Ip6Daddr,
                 Process, Cgroup, Service, AppGroup };

struct Node {
    Kind kind;
    Type type;
    TokenKind op = TokenKind::End;  // Compare
    Key key = Key::Tcp;             // Key
    bool boolean = false;           // Literal
    int64_t integer = 0;
    std::string string;
    std::unique_ptr<Node> left, right;
    unsigned depth = 1;
};

} // namespace filter_detail

using namespace filter_detail;

namespace {

struct KeyInfo { const char *name; Key key; Type type; };
const KeyInfo keys[] = {
    {"tcp", Key::Tcp, Type::Bool}, {"udp", Key::Udp, Type::Bool}, {"ipv4", Key::Ipv4, Type::Bool},
    {"ipv6", Key::Ipv6, Type::Bool}, {"src_port", Key::SrcPort, Type::Int}, {"dst_port", Key::DstPort, Type::Int},
    {"ip_saddr", Key::IpSaddr, Type::String}, {"ip_daddr", Key::IpDaddr, Type::String},
    {"ip6_saddr", Key::Ip6Saddr, Type::String}, {"ip6_daddr", Key::Ip6Daddr, Type::String},
    {"process", Key::Process, Type::String}, {"cgroup", Key::Cgroup, Type::String},
    {"service", Key::Service, Type::String}, {"app_group", Key::AppGroup, Type::String},
};

struct Address {
    int family = 0;
    unsigned char bytes[16] = {};
};

std::optional<Address> parse_address(std::string_view text)
{
    char buffer[INET6_ADDRSTRLEN + 1];
    if (text.empty() || text.size() >= sizeof buffer)
        return std::nullopt;
    memcpy(buffer, text.data(), text.size());
    buffer[text.size()] = '\0';
    Address address;
    if (inet_pton(AF_INET, buffer, address.bytes) == 1)
        address.family = AF_INET;
    else if (inet_pton(AF_INET6, buffer, address.bytes) == 1)
        address.family = AF_INET6;
    else
        return std::nullopt;
    return address;
}

struct Network {
    Address address;
    unsigned bits;
};

// "a.b.c.d/n", "x::/n", or a bare address (all its bits).
std::optional<Network> parse_network(std::string_view text)
{
    size_t slash = text.find('/');
    std::optional<Address> address = parse_address(text.substr(0, slash));
    if (!address)
        return std::nullopt;
    unsigned max_bits = address->family == AF_INET ? 32 : 128;
    unsigned bits = max_bits;
    if (slash != std::string_view::npos) {
        std::string_view digits = text.substr(slash + 1);
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || bits > max_bits)
            return std::nullopt;
    }
    return Network{*address, bits};
}

const char *type_name(Type type)
{
    return type == Type::Bool ? "bool" : type == Type::Int ? "int" : "string";
}

struct ParseError {
    const Token &at;
    std::string why;
};

class Parser {
public:
    explicit Parser(const std::vector<Token> &tokens) : tokens_(tokens) {}

    bool at_end() const { return peek().kind == TokenKind::End; }

    // One rule, up to its ';' or newline. nullptr for an empty rule.
    std::unique_ptr<Node> rule()
    {
        if (at_rule_end()) {
            skip_rule_end();
            return nullptr;
        }
        nesting_ = 0;
        std::unique_ptr<Node> node = expression();
        if (!at_rule_end())
            throw ParseError{peek(), std::string("expected '&&', '||' or the end of the rule, found ") +
                                         describe(peek())};
        if (node->type != Type::Bool)
            throw ParseError{rule_start_, std::string("a rule must be true or false, this one is ") +
                                              type_name(node->type)};
        skip_rule_end();
        return node;
    }

    // After an error: on to the token after the rule's end.
    void skip_rule()
    {
        while (!at_rule_end())
            ++pos_;
        skip_rule_end();
    }

    void mark_rule_start() { rule_start_ = peek(); }

private:
    const Token &peek() const { return tokens_[pos_]; }
    const Token &take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
    bool at_rule_end() const { return peek().kind == TokenKind::EndOfRule || peek().kind == TokenKind::End; }
    void skip_rule_end()
    {
        if (peek().kind == TokenKind::EndOfRule)
            ++pos_;
    }

    static std::string describe(const Token &token)
    {
        if (token.kind == TokenKind::Invalid)
            return token.text;
        if (token.kind == TokenKind::Name)
            return "'" + token.text + "'";
        return token_name(token.kind);
    }

    static std::unique_ptr<Node> make(Kind kind, Type type, std::unique_ptr<Node> left = nullptr,
                                      std::unique_ptr<Node> right = nullptr)
    {
        auto node = std::make_unique<Node>();
        node->kind = kind;
        node->type = type;
        unsigned depth = 0;
        if (left)
            depth = left->depth;
        if (right && right->depth > depth)
            depth = right->depth;
        node->depth = depth + 1;
        node->left = std::move(left);
        node->right = std::move(right);
        return node;
    }

    void check_depth(const Node &node, const Token &at) const
    {
        if (node.depth > FlowFilter::max_depth)
            throw ParseError{at, "rule nested or chained deeper than " + std::to_string(FlowFilter::max_depth)};
    }

    void expect_type(const Node &node, Type type, const Token &at, const char *what) const
    {
        if (node.type != type)
            throw ParseError{at, std::string(what) + " takes " + type_name(type) + ", not " + type_name(node.type)};
    }

    std::unique_ptr<Node> expression()
    {
        std::unique_ptr<Node> left = comparison();
        while (peek().kind == TokenKind::And || peek().kind == TokenKind::Or) {
            const Token &op = take();
            std::unique_ptr<Node> right = comparison();
            expect_type(*left, Type::Bool, op, op.text.c_str());
            expect_type(*right, Type::Bool, op, op.text.c_str());
            left = make(op.kind == TokenKind::And ? Kind::And : Kind::Or, Type::Bool, std::move(left), std::move(right));
            check_depth(*left, op);
        }
        return left;
    }

    static bool is_comparison(TokenKind kind)
    {
        return kind == TokenKind::Equal || kind == TokenKind::NotEqual || kind == TokenKind::Less ||
               kind == TokenKind::LessEqual || kind == TokenKind::Greater || kind == TokenKind::GreaterEqual;
    }

    std::unique_ptr<Node> comparison()
    {
        std::unique_ptr<Node> left = unary();
        while (is_comparison(peek().kind)) {
            const Token &op = take();
            std::unique_ptr<Node> right = unary();
            bool equality = op.kind == TokenKind::Equal || op.kind == TokenKind::NotEqual;
            if (equality && left->type != right->type)
                throw ParseError{op, op.text + " compares values of one type, not " + type_name(left->type) +
                                         " and " + type_name(right->type)};
            if (!equality) {
                expect_type(*left, Type::Int, op, op.text.c_str());
                expect_type(*right, Type::Int, op, op.text.c_str());
            }
            left = make(Kind::Compare, Type::Bool, std::move(left), std::move(right));
            left->op = op.kind;
            check_depth(*left, op);
        }
        return left;
    }

    std::unique_ptr<Node> unary()
    {
        if (peek().kind != TokenKind::Not)
            return primary();
        const Token &op = take();
        enter(op);
        std::unique_ptr<Node> operand = unary();
        --nesting_;
        expect_type(*operand, Type::Bool, op, "!");
        auto node = make(Kind::Not, Type::Bool, std::move(operand));
        check_depth(*node, op);
        return node;
    }

    // Parser recursion is bounded like the tree it builds.
    void enter(const Token &at)
    {
        if (++nesting_ > FlowFilter::max_depth)
            throw ParseError{at, "rule nested or chained deeper than " + std::to_string(FlowFilter::max_depth)};
    }

    void expect(TokenKind kind, const char *context)
    {
        if (peek().kind != kind)
            throw ParseError{peek(), std::string("expected ") + token_name(kind) + " " + context + ", found " +
                                         describe(peek())};
        take();
    }

    std::unique_ptr<Node> primary()
    {
        const Token &token = take();
        switch (token.kind) {
        case TokenKind::LParen: {
            enter(token);
            std::unique_ptr<Node> inner = expression();
            --nesting_;
            expect(TokenKind::RParen, "to close '('");
            return inner;
        }
        case TokenKind::Int: {
            auto node = make(Kind::Literal, Type::Int);
            auto [end, error] = std::from_chars(token.text.data(), token.text.data() + token.text.size(), node->integer);
            if (error != std::errc())
                throw ParseError{token, "number " + token.text + " is too large"};
            return node;
        }
        case TokenKind::String: {
            auto node = make(Kind::Literal, Type::String);
            node->string = token.text;
            return node;
        }
        case TokenKind::Name:
            return name(token);
        default:
            throw ParseError{token, "expected a key, a value, '!' or '(', found " + describe(token)};
        }
    }

    std::unique_ptr<Node> name(const Token &token)
    {
        if (token.text == "true" || token.text == "false") {
            auto node = make(Kind::Literal, Type::Bool);
            node->boolean = token.text == "true";
            return node;
        }
        if (peek().kind == TokenKind::LParen)
            return call(token);
        for (const KeyInfo &info : keys)
            if (token.text == info.name) {
                auto node = make(Kind::Key, info.type);
                node->key = info.key;
                return node;
            }
        throw ParseError{token, "unknown key '" + token.text + "'"};
    }

    // ipnet_contains(net, ip) and has_prefix(s, prefix): two strings each.
    std::unique_ptr<Node> call(const Token &function)
    {
        Kind kind;
        if (function.text == "ipnet_contains")
            kind = Kind::IpnetContains;
        else if (function.text == "has_prefix")
            kind = Kind::HasPrefix;
        else
            throw ParseError{function, "unknown function '" + function.text + "'"};
        take();  // '('
        enter(function);
        const Token &first_at = peek();
        std::unique_ptr<Node> first = expression();
        expect(TokenKind::Comma, ("between the arguments of " + function.text).c_str());
        const Token &second_at = peek();
        std::unique_ptr<Node> second = expression();
        if (peek().kind == TokenKind::Comma)
            throw ParseError{peek(), function.text + " takes two arguments"};
        expect(TokenKind::RParen, ("after the arguments of " + function.text).c_str());
        --nesting_;
        expect_type(*first, Type::String, first_at, (function.text + "'s first argument").c_str());
        expect_type(*second, Type::String, second_at, (function.text + "'s second argument").c_str());
        if (kind == Kind::IpnetContains && first->kind == Kind::Literal && !parse_network(first->string))
            throw ParseError{first_at, "'" + first->string + "' is not a network (e.g. 10.0.0.0/8 or fe80::/10)"};
        auto node = make(kind, Type::Bool, std::move(first), std::move(second));
        check_depth(*node, function);
        return node;
    }

    const std::vector<Token> &tokens_;
    size_t pos_ = 0;
    unsigned nesting_ = 0;
    Token rule_start_{TokenKind::End, "", 1, 1};
};

struct Value {
    bool boolean = false;
    int64_t integer = 0;
    std::string_view string;
};

std::string_view key_string(const FlowFacts &flow, Key key)
{
    switch (key) {
    case Key::IpSaddr: return flow.ip_saddr;
    case Key::IpDaddr: return flow.ip_daddr;
    case Key::Ip6Saddr: return flow.ip6_saddr;
    case Key::Ip6Daddr: return flow.ip6_daddr;
    case Key::Process: return flow.process;
    case Key::Cgroup: return flow.cgroup;
    case Key::Service: return flow.service;
    case Key::AppGroup: return flow.app_group;
    default: return {};
    }
}

Value key_value(const FlowFacts &flow, Key key)
{
    Value value;
    switch (key) {
    case Key::Tcp: value.boolean = flow.tcp; break;
    case Key::Udp: value.boolean = flow.udp; break;
    case Key::Ipv4: value.boolean = flow.ipv4; break;
    case Key::Ipv6: value.boolean = flow.ipv6; break;
    case Key::SrcPort: value.integer = flow.src_port; break;
    case Key::DstPort: value.integer = flow.dst_port; break;
    default: value.string = key_string(flow, key); break;
    }
    return value;
}

bool compare(TokenKind op, Type type, const Value &a, const Value &b)
{
    if (type == Type::Bool)
        return (a.boolean == b.boolean) == (op == TokenKind::Equal);
    if (type == Type::String)
        return (a.string == b.string) == (op == TokenKind::Equal);
    switch (op) {
    case TokenKind::Equal: return a.integer == b.integer;
    case TokenKind::NotEqual: return a.integer != b.integer;
    case TokenKind::Less: return a.integer < b.integer;
    case TokenKind::LessEqual: return a.integer <= b.integer;
    case TokenKind::Greater: return a.integer > b.integer;
    default: return a.integer >= b.integer;
    }
}

Value evaluate(const Node &node, const FlowFacts &flow)
{
    Value value;
    switch (node.kind) {
    case Kind::Literal:
        value.boolean = node.boolean;
        value.integer = node.integer;
        value.string = node.string;
        break;
    case Kind::Key:
        value = key_value(flow, node.key);
        break;
    case Kind::Not:
        value.boolean = !evaluate(*node.left, flow).boolean;
        break;
    case Kind::Compare:
        value.boolean = compare(node.op, node.left->type, evaluate(*node.left, flow), evaluate(*node.right, flow));
        break;
    case Kind::And:  // short-circuit, as the seed's evaluator
        value.boolean = evaluate(*node.left, flow).boolean && evaluate(*node.right, flow).boolean;
        break;
    case Kind::Or:
        value.boolean = evaluate(*node.left, flow).boolean || evaluate(*node.right, flow).boolean;
        break;
    case Kind::IpnetContains:
        value.boolean = ipnet_contains(evaluate(*node.left, flow).string, evaluate(*node.right, flow).string);
        break;
    case Kind::HasPrefix:
        value.boolean = evaluate(*node.left, flow).string.starts_with(evaluate(*node.right, flow).string);
        break;
    }
    return value;
}

} // namespace

bool ipnet_contains(std::string_view network, std::string_view ip)
{
    std::optional<Network> net = parse_network(network);
    std::optional<Address> address = parse_address(ip);
    if (!net || !address || net->address.family != address->family)
        return false;
    for (unsigned i = 0; i < net->bits; ++i) {
        unsigned mask = 0x80u >> (i % 8);
        if ((net->address.bytes[i / 8] & mask) != (address->bytes[i / 8] & mask))
            return false;
    }
    return true;
}

FlowFilter::FlowFilter() = default;
FlowFilter::~FlowFilter() = default;
FlowFilter::FlowFilter(FlowFilter &&) noexcept = default;
FlowFilter &FlowFilter::operator=(FlowFilter &&) noexcept = default;

FlowFilter FlowFilter::parse(std::string_view text, const ErrorSink &error)
{
    FlowFilter filter;
    std::vector<Token> tokens = lex_filter(text);
    Parser parser(tokens);
    while (!parser.at_end()) {
        parser.mark_rule_start();
        try {
            if (std::unique_ptr<Node> rule = parser.rule())
                filter.rules_.push_back(std::move(rule));
        } catch (const ParseError &e) {
            error("line " + std::to_string(e.at.line) + ", column " + std::to_string(e.at.column) + ": " + e.why);
            parser.skip_rule();
        }
    }
    return filter;
}

bool FlowFilter::excludes(const FlowFacts &flow) const
{
    for (const auto &rule : rules_)
        if (evaluate(*rule, flow).boolean)
            return true;
    return false;
}

FlowFilter parse_flow_filter_logged(std::string_view text)
{
    return FlowFilter::parse(text, [](const std::string &why) {
        log_error("flow filter: %s; rule ignored", why.c_str());
    });
}
