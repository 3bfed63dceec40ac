#include "net/filter_lexer.h"

namespace {

bool continues_rule(TokenKind previous)
{
    switch (previous) {
    case TokenKind::LParen: case TokenKind::Comma: case TokenKind::Not:
    case TokenKind::Equal: case TokenKind::NotEqual: case TokenKind::Less: case TokenKind::LessEqual:
    case TokenKind::Greater: case TokenKind::GreaterEqual: case TokenKind::And: case TokenKind::Or:
        return true;
    default:
        return false;
    }
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
public:
    explicit Lexer(std::string_view text) : text_(text) {}

    std::vector<Token> run()
    {
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '\n') {
                if (!tokens_.empty() && !continues_rule(tokens_.back().kind))
                    add(TokenKind::EndOfRule, "newline", column());
                advance_line();
            } else if (c == ' ' || c == '\t' || c == '\r') {
                ++pos_;
            } else if (c == '#') {  // a comment runs to the end of the line
                while (pos_ < text_.size() && text_[pos_] != '\n')
                    ++pos_;
            } else {
                next_token();
            }
        }
        add(TokenKind::End, "end of text", column());
        return std::move(tokens_);
    }

private:
    unsigned column() const { return unsigned(pos_ - line_start_) + 1; }
    void advance_line()
    {
        ++pos_;
        ++line_;
        line_start_ = pos_;
    }
    void add(TokenKind kind, std::string text, unsigned column)
    {
        tokens_.push_back({kind, std::move(text), line_, column});
    }
    bool next_is(char c) const { return pos_ + 1 < text_.size() && text_[pos_ + 1] == c; }

    void next_token()
    {
        unsigned start = column();
        char c = text_[pos_];
        if (is_name_start(c)) {
            size_t begin = pos_;
            while (pos_ < text_.size() && (is_name_start(text_[pos_]) || is_digit(text_[pos_])))
                ++pos_;
            add(TokenKind::Name, std::string(text_.substr(begin, pos_ - begin)), start);
        } else if (is_digit(c)) {
            size_t begin = pos_;
            while (pos_ < text_.size() && is_digit(text_[pos_]))
                ++pos_;
            add(TokenKind::Int, std::string(text_.substr(begin, pos_ - begin)), start);
        } else if (c == '"' || c == '\'') {
            string(c, start);
        } else {
            operator_token(c, start);
        }
    }

    // A string ends at its quote on the same line; \\ \" \' \n \t are escapes.
    void string(char quote, unsigned start)
    {
        std::string value;
        ++pos_;
        while (pos_ < text_.size() && text_[pos_] != quote && text_[pos_] != '\n') {
            char c = text_[pos_++];
            if (c == '\\' && pos_ < text_.size() && text_[pos_] != '\n') {
                char e = text_[pos_++];
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
            }
            value += c;
        }
        if (pos_ >= text_.size() || text_[pos_] != quote) {
            add(TokenKind::Invalid, "string not closed on its line", start);
            return;
        }
        ++pos_;
        add(TokenKind::String, std::move(value), start);
    }

    void operator_token(char c, unsigned start)
    {
        struct Op { const char *text; TokenKind kind; };
        static const Op ops[] = {
            {"&&", TokenKind::And}, {"||", TokenKind::Or}, {"==", TokenKind::Equal}, {"!=", TokenKind::NotEqual},
            {"<=", TokenKind::LessEqual}, {">=", TokenKind::GreaterEqual}, {"<", TokenKind::Less},
            {">", TokenKind::Greater}, {"!", TokenKind::Not}, {"(", TokenKind::LParen}, {")", TokenKind::RParen},
            {",", TokenKind::Comma}, {";", TokenKind::EndOfRule},
        };
        std::string_view rest = text_.substr(pos_);
        for (const Op &op : ops)
            if (rest.starts_with(op.text)) {
                pos_ += std::string_view(op.text).size();
                add(op.kind, op.text, start);
                return;
            }
        ++pos_;
        std::string reason = "unexpected character";
        if (c >= 0x21 && c < 0x7f)
            reason += std::string(" '") + c + "'";
        add(TokenKind::Invalid, reason, start);
    }

    std::string_view text_;
    size_t pos_ = 0, line_start_ = 0;
    unsigned line_ = 1;
    std::vector<Token> tokens_;
};

} // namespace

std::vector<Token> lex_filter(std::string_view text)
{
    return Lexer(text).run();
}

const char *token_name(TokenKind kind)
{
    switch (kind) {
    case TokenKind::Name: return "a name";
    case TokenKind::String: return "a string";
    case TokenKind::Int: return "a number";
    case TokenKind::LParen: return "'('";
    case TokenKind::RParen: return "')'";
    case TokenKind::Comma: return "','";
    case TokenKind::Not: return "'!'";
    case TokenKind::Equal: return "'=='";
    case TokenKind::NotEqual: return "'!='";
    case TokenKind::Less: return "'<'";
    case TokenKind::LessEqual: return "'<='";
    case TokenKind::Greater: return "'>'";
    case TokenKind::GreaterEqual: return "'>='";
    case TokenKind::And: return "'&&'";
    case TokenKind::Or: return "'||'";
    case TokenKind::EndOfRule: return "the end of the rule";
    case TokenKind::Invalid: return "invalid text";
    case TokenKind::End: return "the end of the text";
    }
    return "?";
}
