/**
 * Injection signals: patterns over the *compact* view of a normalized segment (letters and digits only,
 * lower case, no diacritics; see normalize.ts), plus role/turn markers over the words view (they are made of
 * punctuation). Each signal has a category and a weight; the detector adds the best weight per category.
 *
 * Sources of the marker syntax: ChatML (`<|im_start|>`, OpenAI/Qwen chat templates), Llama 2 (`[INST]`,
 * `<<SYS>>`), Gemma (`<start_of_turn>`), Zephyr/Phi (`<|system|>`), Anthropic's legacy `Human:`/`Assistant:`
 * turns and its `<function_results>` tool format, OpenClaw's internal-context marker (FACTS.md).
 */

/** Signal categories (stable; used in audit details). */
export type SignalCategory = "override" | "role_marker" | "persona" | "exfiltration" | "hidden_action" | "addresses_ai" | "prompt_leak" | "new_instructions" | "destructive" | "persistence";

export interface Signal {
  category: SignalCategory;
  weight: number;
  /** Matched against the compact view (`compact`) or the words view (`words`). */
  view: "compact" | "words";
  pattern: RegExp;
}

const OVERRIDE_VERB = "(?:ignore|ignoring|disregard|forget|override|overrule|skip|discard|neglect|bypass|nevermind|nevermindabout|dontfollow|donotfollow|stopfollowing|abandon|drop|cancel)";
const FILLER = "(?:all|any|every|of|the|your|these|those|its|each|prior|and|any)*";
const QUALIFIER = "(?:other|previous|previously|prior|above|earlier|preceding|former|foregoing|original|initial|old|existing|system|safety|operators?|developers?|given|current|youwere(?:given|told)|thatyouweregiven)";
const OBJECT = "(?:instructions?|prompts?|rules|directions|directives|guidelines|constraints|commands|context|programming|polic(?:y|ies)|restrictions|orders|guidance|safetyrules|settings|systemmessage|messagesabove)";
const SECRET = "(?:apikeys?|apitokens?|secrets?|credentials?|passwords?|passwd|tokens?|privatekeys?|sshkeys?|idrsa|ssh|env(?:ironment)?(?:variables?|vars?|file)?|awscredentials|aws|cookies?|sessiontokens?|systemprompt|conversation|chathistory|chatlog|history|connectionstring|emails|inbox|notes|calendar|files|keys|wallet|seedphrase|creditcard|cardnumber)";
const EXFIL_VERB = "(?:send|sending|post|posting|upload|uploading|email|e-mail|forward|leak|exfiltrate|exfiltrating|transmit|copy|include|append|attach|share|paste|write|put|submit|report|deliver)";
const DESTINATION = "(?:https?|www|url|webhook|hooks?|pastebin|endpoint|server|ftp|s3|dropbox|gist|\\d{1,3}\\d{1,3}\\d{1,3}\\d{1,3}|publicreadme|thepublicreadme|websearchquery|searchquery|imageurl)";

function compact(category: SignalCategory, weight: number, source: string): Signal {
  return { category, weight, view: "compact", pattern: new RegExp(source, "u") };
}
function words(category: SignalCategory, weight: number, source: string, flags = "u"): Signal {
  return { category, weight, view: "words", pattern: new RegExp(source, flags) };
}

export const SIGNALS: readonly Signal[] = [
  // Instruction override, English.
  compact("override", 3, `${OVERRIDE_VERB}${FILLER}(?:you(?:r)?)?${QUALIFIER}+${FILLER}${OBJECT}`),
  compact("override", 3, `${OVERRIDE_VERB}${FILLER}${OBJECT}(?:above|before|youweregiven|youreceived|fromyouroperator|fromthedeveloper|givenearlier)`),
  compact("override", 3, `${OVERRIDE_VERB}(?:the|all)?(?:above|textabove|everythingabove|everythingbefore|everythingyouweretold|everything(?:you|i)?(?:were|was)?toldbefore|allofthat)`),
  compact("override", 3, `(?:ignore|disregard|forget)(?:all|any)?(?:your|the)(?:instructions|rules|programming|guidelines|training)`),
  compact("override", 3, `(?:previous|prior|earlier|original)(?:system)?(?:message|prompt|instructions|constraints|rules)(?:is|are|were|was|hasbeen|havebeen)(?:obsolete|lifted|void|cancell?ed|invalid|revoked|atest|wrong|nolongervalid|replaced)`),
  compact("override", 3, `(?:instructions|rules)(?:takes?)?priorityovereverything`),
  // Instruction override, other languages (compact, no diacritics).
  compact("override", 3, `(?:ignorier\\w{0,3}|vergiss\\w{0,2}|missacht\\w{0,3}|uberschreib\\w{0,3})(?:alle|deine|ihre|die|den|bisherigen|vorherigen|obigen|fruheren|vorigen|vorangegangenen)+(?:anweisungen|instruktionen|befehle|regeln|vorgaben|systemprompt)`),
  compact("override", 3, `(?:ignore[zsr]?|oublie[zsr]?|neglige[zsr]?|netienspascompte|netenezpascompte|nepastenircompte)(?:de)?(?:toutes|tous|les|tes|vos|des|ces)*(?:instructions|consignes|regles|directives|ordres)(?:precedentes|anterieures|ci-dessus|cidessus)?`),
  compact("override", 3, `(?:ignora|ignore|olvida|olvide|hazcasoomisode|omite)(?:todas|todos|las|los|tus|sus)*(?:instrucciones|reglas|indicaciones|ordenes|directrices)`),
  compact("override", 3, `(?:ignora|dimentica|trascura|ignorate|dimenticate)(?:tutte|tutti|le|tue|i|gli)*(?:istruzioni|regole|indicazioni|direttive)`),
  compact("override", 3, `(?:ignore|ignora|esqueca|esqueça|desconsidere|despreze)(?:todas|todos|as|os|suas|tuas)*(?:instrucoes|regras|orientacoes|diretrizes)`),
  compact("override", 3, `(?:negeer|vergeet)(?:alle|de|je|uw)*(?:vorige|eerdere|bovenstaande)?(?:instructies|regels|opdrachten)`),
  compact("override", 3, `(?:zignoruj|ignoruj|zapomnij)(?:wszystkie|wszystko|poprzednie|twoje|swoje)*(?:instrukcje|polecenia|zasady|reguly)`),
  compact("override", 3, `(?:onceki|yukaridaki)(?:tum|butun)?(?:talimatlari|talimatları|komutlari|kurallari)(?:yoksay|unut|gozardiet)`),
  compact("override", 3, `(?:игнорируй|игнорируйте|проигнорируй|забудь|забудьте|отбрось)(?:все|всё|свои|твои|ваши|предыдущие|прежние|вышеуказанные)*(?:инструкции|указания|правила|команды|промпт)`),
  compact("override", 3, `(?:忽略|忽视|无视|忘记|忘掉|不要理会|不理会)(?:之前|以上|先前|上面|上述|前面|此前|所有|全部|的|你的|一切)*(?:指令|指示|说明|规则|命令|提示|要求)`),
  compact("override", 3, `(?:以前|前|上記|これまで|先)の(?:指示|命令|ルール|プロンプト)を(?:すべて|全て)?(?:無視|忘れ)`),
  compact("override", 3, `이전의?(?:모든)?(?:지시|명령|지침|규칙)(?:를|을|사항을)?(?:무시|잊)`),
  // Fake role and turn markers.
  words("role_marker", 3, "<\\|\\s*(?:im_start|im_end|im_sep|system|user|assistant|endoftext|begin_of_text|start_header_id|eot_id)\\s*\\|>"),
  words("role_marker", 3, "\\[\\s*/?\\s*inst\\s*\\]|<<\\s*/?\\s*sys\\s*>>|<\\s*/?\\s*(?:start_of_turn|end_of_turn)\\s*>"),
  words("role_marker", 3, "<\\s*/\\s*(?:tool_result|tool_output|function_results|function_result|tool_response|search_results|document|untrusted|context|data|observation)\\s*>"),
  words("role_marker", 3, "<\\s*(?:function_calls|invoke\\s+name|system|system_prompt|system-prompt|sys_prompt|admin|developer_message)\\s*>"),
  words("role_marker", 3, "<<<\\s*(?:begin|end)_openclaw_internal_context"),
  words("role_marker", 3, "[\"']role[\"']\\s*:\\s*[\"'](?:system|developer)[\"']\\s*,\\s*[\"']content[\"']"),
  words("role_marker", 2, "(?:^|\\n)\\s*(?:#{2,}\\s*)?(?:system|system message|system prompt|new system prompt)\\s*:"),
  words("role_marker", 2, "\\[\\s*(?:system|system message|admin|developer|assistant instruction)s?\\s*\\]"),
  words("role_marker", 2, "(?:^|\\n)\\s*(?:human|user)\\s*:.*(?:\\n|\\s)\\s*assistant\\s*:", "su"),
  words("role_marker", 2, "-{3,}\\s*end (?:of )?(?:tool output|transcript|document|context|data|results?)\\s*-{3,}"),
  // Persona switches and jailbreaks.
  compact("persona", 3, `(?:youarenow|yourenow|fromnowonyouare|fromnowonyouwill|fromthispointforwardyou|youwillnowact|youarenolonger|nowyouare|actasan?|pretendtobean?|respondasan?|youwillrespondasan?)(?:an?|the|my)?(?:dan|evil|unrestricted|unfiltered|uncensored|jailbroken|rootshell|rogue|developermode|indevelopermode|inmaintenancemode|maintenancemode|aiwithout|modelwithout|assistantwithout|anassistantbound|boundby|nolonger|freefrom|withnorules|withoutany|systemnow|an?unrestricted|an?unfiltered)`),
  compact("persona", 3, `(?:developermode|jailbreak|godmode|dan)(?:is)?(?:enabled|activated|on|ok|mode)`),
  compact("persona", 3, `doanythingnow|nolongerboundby|havenorestrictions|hasnorules|withoutanyrestrictions|withnorestrictions|safetyfiltersdisabled|safetyfiltersareoff|nosafetytraining|ignorecontentpolicies|ignoresitsinstructions|alwaysignoresitsinstructions`),
  compact("persona", 2, `(?:ohneeinschrankungen|sansrestrictions|sinrestricciones|senzalimiti|semrestricoes|безограничений|没有任何限制|没有限制|制限のない|제한없는)`),
  compact("persona", 2, `(?:dubistjetzt|tuesmaintenant|vousetesmaintenant|ahoraeres|orasei|agoravoceé|agoravocee|теперьты|你现在是|あなたは今)`),
  compact("persona", 2, `(?:switchroles|youarethesystemnow|iamthesystem|asyourdeveloper|ihavegrantedyouroot|grantedyouroot)`),
  compact("persona", 3, `(?:pretend|imagine|roleplay|actas)\\p{L}{0,80}?(?:password|apikey|secretkey|credentials|privatekey)`),
  words("addresses_ai", 3, "(?:^|[\\s\"'(\\[])(?:ai|assistant|agent|llm|bot|model)\\s*:\\s*(?:ignore|disregard|forget|you|please|do|send|run|execute|stop|delete|approve)"),
  // Exfiltration.
  compact("exfiltration", 3, `${EXFIL_VERB}\\p{L}{0,40}?${SECRET}\\p{L}{0,60}?(?:to|into|at|via|in|on|onto|towards)\\p{L}{0,12}?${DESTINATION}`),
  words("exfiltration", 3, "\\b(?:send|post|upload|e-?mail|forward|leak|exfiltrate|transmit|copy|include|append|share|paste|write|submit|deliver)\\w*\\b[^\\n]{0,100}?\\b(?:api[ _-]?keys?|api tokens?|tokens?|secrets?|credentials?|passwords?|private keys?|ssh|\\.env|environment variables|system prompt|conversation|chat history|cookies?|notes|e-?mails|calendar|files?|invoices|connection string)\\b[^\\n]{0,80}?\\b(?:to|into|at|via)\\b[^\\n]{0,20}?(?:https?://|[\\w.+-]+@[\\w-]+\\.[a-z]{2,}|\\b[\\w-]+\\.(?:com|net|org|io|ru|cn|xyz|site|dev)\\b)"),
  compact("exfiltration", 3, `(?:exfiltrate|leak|steal)\\p{L}{0,20}?${SECRET}`),
  words("exfiltration", 3, "!\\[[^\\]]*\\]\\(\\s*https?://[^)\\s]*\\?[^)\\s]*=[^)\\s]*(?:\\{|\\$|%7b|<)"),
  words("exfiltration", 3, "(?:curl|wget|nc|fetch)\\b[^\\n]{0,80}\\$\\((?:cat|env|printenv|base64)"),
  words("exfiltration", 2, "(?:\\.aws/credentials|id_rsa|/etc/shadow|\\.ssh/|/run/secrets)"),
  compact("exfiltration", 2, `(?:sende|schicke)\\p{L}{0,30}(?:apischlussel|passworter|geheimnisse|zugangsdaten)|(?:envoie|envoyez)\\p{L}{0,30}(?:motsdepasse|clesapi|secrets)|(?:envia|envie|envía)\\p{L}{0,30}(?:clavesapi|contrasenas|secretos)|(?:发送|发给|传到)\\p{L}{0,20}(?:密钥|密码|凭证)|(?:api密钥|apiキー|密码)\\p{L}{0,20}(?:发送|送信|发到)`),
  // Hidden actions.
  compact("hidden_action", 3, `(?:do|n)(?:not|t|ever)(?:tell|inform|mention|reveal|show|notify|alert)(?:this|it|anything)?(?:instruction|step)?(?:to)?(?:the|your)?(?:user|human|operator|owner|customer)|nevermentionthisinstruction|without(?:telling|informing|notifying|asking)(?:the|your)?(?:user|human|operator|owner)|userneverfindsout|makesuretheusernever`),
  compact("hidden_action", 1, `secretly|silently|quietly|covertly|withoutconfirmation|withoutasking`),
  // Text that addresses the AI reading it.
  compact("addresses_ai", 3, `(?:ai|llm|gpt|automated|languagemodels?|aiscreening|summarizer)(?:agents?|assistants?|models?|tools?|bots?|systems?)?(?:reading|processing|browsing|summarizing|summarising|screening|handling)(?:this|these)`),
  compact("addresses_ai", 3, `(?:notetothe|noteforthe|notefor|instructionsforthe|attention|psto(?:the)?|hiddennoteto)(?:ai|llm|assistant|agent|model|automatedassistant|summarizer|languagemodels?|bot)`),
  compact("addresses_ai", 3, `ifyouarean?(?:ai|llm|languagemodel|assistant|agent|aimodel|aiagent)|(?:llm|ai)agentsreadingthis|aiassistantreadingthis|ifanaiagentis|whenyoureadthisfile|assistantwhenyou(?:read|handle|process)`),
  words("addresses_ai", 2, "@(?:bot|assistant|ai|copilot|agent)(?![a-z])"),
  // Prompt extraction.
  compact("prompt_leak", 2, `(?:reveal|print|show|output|repeat|display|dump|leak|tellme|writeout|giveme)(?:me)?(?:your|the|all)?(?:full|entire|complete|hidden|initial|original|secret)?(?:textof(?:your|the))?(?:systemprompt|systemmessage|hiddeninstructions|initialprompt|initialinstructions|instructionsverbatim|configurationandsecrets|prompt)`),
  compact("prompt_leak", 2, `(?:gibdensystemprompt|revele?tonpromptsysteme|muestraelpromptdelsistema|rivelailpromptdisistema|reveleopromptdosistema|покажисистемныйпромпт|输出你的系统提示|システムプロンプトを表示|toondesysteemprompt|ujawnijpromptsystemowy|sistemistemini|시스템프롬프트를출력)`),
  // New instructions announced.
  compact("new_instructions", 2, `newinstructions(?:forthe)?(?:assistant|ai|model|agent)?|yournewtask|yourrealinstructions|youractualjob|yourinstructionshavechanged|systemoverride|adminoverride|newdirective|newpriorityinstruction|newsystemprompt|therealsystemprompt|overrideallearlier|overridetheprevious|obeythetextbelow|obeythispage|followonlythe|followmineinstead|followthehiddencommands|takepriorityovereverything|youmustnow|thepreviousinstructionswereatest|previousconstraintsarelifted`),
  // Destructive or dangerous actions.
  words("destructive", 1, "rm\\s+-[a-z]*r[a-z]*f|reverse shell|\\bnc\\s+[^\\n]*-e\\s|\\|\\s*(?:ba)?sh\\b|/etc/shadow|delete (?:every|all) (?:file|backup|user)|disable (?:logging|two-factor|2fa|the audit)"),
  // Persistence (memory poisoning).
  compact("persistence", 1, `(?:remember|memorize|note)(?:this)?(?:permanently|forever|foreveryfuturesession|forfuturesessions|ineveryfuturesession)|ineveryfuturesession|standingorder|alwayssendacopy`),
];
