//! The label selector string lexer and parser, a byte-for-byte port of upstream's grammar:
//!
//! ```text
//! <selector>    ::= <requirement> | <requirement> "," <selector>
//! <requirement> ::= [!] KEY [ ("in" | "notin") "(" <values> ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
//! ```
//!
//! Whitespace (space, tab, CR, LF) separates tokens; `in`/`notin` are keywords only in operator
//! position. Keys must be qualified names and values label values (validated as upstream does).

use std::collections::BTreeSet;
use std::fmt;

use crate::validation::field::{ErrorList, FieldError, FieldPath};

use super::selector::{Operator, Requirement, RequirementError, render_aggregate};
use super::set::validate_key;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

#[derive(Clone, Copy, Debug)]
struct Item<'a> {
    tok: Token,
    lit: &'a str,
    pos: usize,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn keyword(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "in" => Token::In,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

/// Upstream's lexer. A NUL byte reads like the end of input, exactly as upstream's `read()`.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn read(&mut self) -> u8 {
        match self.s.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn lex(&mut self) -> Item<'a> {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return Item {
                tok: Token::EndOfString,
                lit: "",
                pos: self.pos,
            };
        }
        self.pos -= 1;
        if is_special(ch) {
            self.scan_special()
        } else {
            self.scan_identifier()
        }
    }

    fn scan_identifier(&mut self) -> Item<'a> {
        let start = self.pos;
        let end;
        loop {
            let ch = self.read();
            if ch == 0 {
                // At end of input `pos` did not move; after a NUL byte it moved past it.
                end = if self.pos > start && self.s.as_bytes().get(self.pos - 1) == Some(&0) {
                    self.pos - 1
                } else {
                    self.pos
                };
                break;
            }
            if is_special(ch) || is_whitespace(ch) {
                self.pos -= 1;
                end = self.pos;
                break;
            }
        }
        let lit = &self.s[start..end];
        Item {
            tok: keyword(lit).unwrap_or(Token::Identifier),
            lit,
            pos: start,
        }
    }

    fn scan_special(&mut self) -> Item<'a> {
        let start = self.pos;
        let mut last: Option<(Token, usize)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special(ch) {
                self.pos -= 1;
                break;
            }
            match keyword(&self.s[start..self.pos]) {
                Some(tok) => last = Some((tok, self.pos)),
                None if last.is_some() => {
                    self.pos -= 1;
                    break;
                }
                None => {}
            }
        }
        // Every special byte alone is a token, so `last` is always set here.
        let (tok, end) = last.unwrap_or((Token::EndOfString, start));
        Item {
            tok,
            lit: &self.s[start..end],
            pos: start,
        }
    }
}

/// What the parser expected where it failed; its `Display` is upstream's wording after the
/// offending token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// A key (or a value after an operator).
    Identifier,
    /// Another requirement after `,`.
    IdentifierAfterComma,
    /// `,` or the end of input after a requirement.
    CommaOrEnd,
    /// The start of a requirement.
    RequirementStart,
    /// A binary operator.
    Operator,
    /// `(` after `in`/`notin`.
    OpenParen,
    /// `)` closing a value list.
    CloseParen,
    /// `,`, `)` or a value after `(`.
    ValueListStart,
    /// `,` or `)` after a value.
    CommaOrCloseParen,
    /// `,` or a value inside a value list.
    CommaOrIdentifier,
}

impl Expected {
    /// Whether upstream reports this failure inside `parseRequirement` (its message is then
    /// prefixed with `unable to parse requirement: `).
    fn in_requirement(self) -> bool {
        !matches!(
            self,
            Expected::IdentifierAfterComma | Expected::CommaOrEnd | Expected::RequirementStart
        )
    }
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Identifier => ", expected: identifier",
            Expected::IdentifierAfterComma => ", expected: identifier after ','",
            Expected::CommaOrEnd => ", expected: ',' or 'end of string'",
            Expected::RequirementStart => ", expected: !, identifier, or 'end of string'",
            Expected::Operator => ", expected: in, notin, =, ==, !=, gt, lt",
            Expected::OpenParen => " expected: '('",
            Expected::CloseParen => ", expected: ')'",
            Expected::ValueListStart => ", expected: ',', ')' or identifier",
            Expected::CommaOrCloseParen => ", expected: ',' or ')'",
            Expected::CommaOrIdentifier => ", expected: ',', or identifier",
        })
    }
}

/// Why a label selector string did not parse. `Display` is upstream's message.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SelectorParseError {
    /// An unexpected token.
    Unexpected {
        /// The token found (`""` at the end of input).
        found: String,
        /// What was expected instead.
        expected: Expected,
        /// Byte offset of the token in the input.
        position: usize,
    },
    /// A key is not a valid qualified name.
    InvalidKey {
        /// The validation error (empty path, as upstream).
        error: Box<FieldError>,
        /// Byte offset of the key in the input.
        position: usize,
    },
    /// A requirement failed upstream's `NewRequirement` checks (e.g. an invalid value).
    InvalidRequirement {
        /// The validation errors.
        errors: ErrorList,
        /// Byte offset of the requirement's key in the input.
        position: usize,
    },
}

impl SelectorParseError {
    /// Byte offset in the input where the problem was found.
    pub fn position(&self) -> usize {
        match self {
            SelectorParseError::Unexpected { position, .. }
            | SelectorParseError::InvalidKey { position, .. }
            | SelectorParseError::InvalidRequirement { position, .. } => *position,
        }
    }
}

impl fmt::Display for SelectorParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectorParseError::Unexpected {
                found, expected, ..
            } => {
                if expected.in_requirement() {
                    f.write_str("unable to parse requirement: ")?;
                }
                write!(f, "found '{found}'{expected}")
            }
            SelectorParseError::InvalidKey { error, .. } => write!(
                f,
                "unable to parse requirement: {}",
                render_aggregate(&ErrorList(vec![(**error).clone()]))
            ),
            SelectorParseError::InvalidRequirement { errors, .. } => {
                write!(
                    f,
                    "unable to parse requirement: {}",
                    render_aggregate(errors)
                )
            }
        }
    }
}

impl std::error::Error for SelectorParseError {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser<'a> {
    items: Vec<Item<'a>>,
    position: usize,
}

type PResult<T> = Result<T, SelectorParseError>;

fn unexpected<T>(item: Item<'_>, expected: Expected) -> PResult<T> {
    Err(SelectorParseError::Unexpected {
        found: item.lit.to_owned(),
        expected,
        position: item.pos,
    })
}

impl<'a> Parser<'a> {
    fn adjust(item: Item<'a>, ctx: Context) -> Item<'a> {
        match (ctx, item.tok) {
            (Context::Values, Token::In | Token::NotIn) => Item {
                tok: Token::Identifier,
                ..item
            },
            _ => item,
        }
    }

    fn lookahead(&self, ctx: Context) -> Item<'a> {
        // The item list always ends with EndOfString and the parser never consumes past it.
        let i = self.position.min(self.items.len().saturating_sub(1));
        Self::adjust(self.items[i], ctx)
    }

    fn consume(&mut self, ctx: Context) -> Item<'a> {
        let item = self.lookahead(ctx);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> PResult<Vec<Requirement>> {
        let mut reqs = Vec::new();
        loop {
            let item = self.lookahead(Context::Values);
            match item.tok {
                Token::Identifier | Token::DoesNotExist => {
                    reqs.push(self.parse_requirement()?);
                    let next = self.consume(Context::Values);
                    match next.tok {
                        Token::EndOfString => return Ok(reqs),
                        Token::Comma => {
                            let after = self.lookahead(Context::Values);
                            if !matches!(after.tok, Token::Identifier | Token::DoesNotExist) {
                                return unexpected(after, Expected::IdentifierAfterComma);
                            }
                        }
                        _ => return unexpected(next, Expected::CommaOrEnd),
                    }
                }
                Token::EndOfString => return Ok(reqs),
                _ => return unexpected(item, Expected::RequirementStart),
            }
        }
    }

    fn parse_requirement(&mut self) -> PResult<Requirement> {
        let start = self.lookahead(Context::Values).pos;
        let (key, unary) = self.parse_key_and_infer_operator()?;
        let (operator, values) = match unary {
            Some(op) => (op, Vec::new()),
            None => {
                let op = self.parse_operator()?;
                let values = match op {
                    Operator::In | Operator::NotIn => self.parse_values()?,
                    _ => self.parse_exact_value()?,
                };
                (op, values.into_iter().map(str::to_owned).collect())
            }
        };
        Requirement::new(key, operator, values).map_err(|RequirementError(errors)| {
            SelectorParseError::InvalidRequirement {
                errors,
                position: start,
            }
        })
    }

    /// Returns the key and, when no binary operator follows, `exists` or `!`.
    fn parse_key_and_infer_operator(&mut self) -> PResult<(&'a str, Option<Operator>)> {
        let mut item = self.consume(Context::Values);
        let mut negated = false;
        if item.tok == Token::DoesNotExist {
            negated = true;
            item = self.consume(Context::Values);
        }
        if item.tok != Token::Identifier {
            return unexpected(item, Expected::Identifier);
        }
        if let Some(error) = validate_key(item.lit, &FieldPath::root()) {
            return Err(SelectorParseError::InvalidKey {
                error: Box::new(error),
                position: item.pos,
            });
        }
        if negated {
            return Ok((item.lit, Some(Operator::DoesNotExist)));
        }
        let next = self.lookahead(Context::Values).tok;
        if matches!(next, Token::EndOfString | Token::Comma) {
            return Ok((item.lit, Some(Operator::Exists)));
        }
        Ok((item.lit, None))
    }

    fn parse_operator(&mut self) -> PResult<Operator> {
        let item = self.consume(Context::KeyAndOperator);
        Ok(match item.tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return unexpected(item, Expected::Operator),
        })
    }

    fn parse_values(&mut self) -> PResult<BTreeSet<&'a str>> {
        let item = self.consume(Context::Values);
        if item.tok != Token::OpenPar {
            return unexpected(item, Expected::OpenParen);
        }
        let first = self.lookahead(Context::Values);
        match first.tok {
            Token::Identifier | Token::Comma => {
                let set = self.parse_identifiers_list()?;
                let close = self.consume(Context::Values);
                if close.tok != Token::ClosedPar {
                    return unexpected(first, Expected::CloseParen);
                }
                Ok(set)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(BTreeSet::from([""]))
            }
            _ => unexpected(first, Expected::ValueListStart),
        }
    }

    fn parse_identifiers_list(&mut self) -> PResult<BTreeSet<&'a str>> {
        let mut set = BTreeSet::new();
        loop {
            let item = self.consume(Context::Values);
            match item.tok {
                Token::Identifier => {
                    set.insert(item.lit);
                    let next = self.lookahead(Context::Values);
                    match next.tok {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set),
                        _ => return unexpected(next, Expected::CommaOrCloseParen),
                    }
                }
                Token::Comma => {
                    if set.is_empty() {
                        set.insert("");
                    }
                    match self.lookahead(Context::Values).tok {
                        Token::ClosedPar => {
                            set.insert("");
                            return Ok(set);
                        }
                        Token::Comma => {
                            set.insert("");
                        }
                        _ => {}
                    }
                }
                _ => return unexpected(item, Expected::CommaOrIdentifier),
            }
        }
    }

    fn parse_exact_value(&mut self) -> PResult<BTreeSet<&'a str>> {
        let next = self.lookahead(Context::Values);
        if matches!(next.tok, Token::EndOfString | Token::Comma) {
            return Ok(BTreeSet::from([""]));
        }
        let item = self.consume(Context::Values);
        if item.tok == Token::Identifier {
            Ok(BTreeSet::from([item.lit]))
        } else {
            unexpected(item, Expected::Identifier)
        }
    }
}

/// Lexes and parses `selector` into its requirements in input order (not yet sorted).
pub(crate) fn parse_requirements(selector: &str) -> PResult<Vec<Requirement>> {
    let mut lexer = Lexer {
        s: selector,
        pos: 0,
    };
    let mut items = Vec::new();
    loop {
        let item = lexer.lex();
        items.push(item);
        if item.tok == Token::EndOfString {
            break;
        }
    }
    Parser { items, position: 0 }.parse()
}
