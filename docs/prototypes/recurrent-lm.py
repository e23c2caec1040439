# Recurrent (LSTM) language model over system calls on ADFA-LD, after Kim et al. 2016 (arXiv:1611.01726):
# per-trace score = mean per-call negative log-likelihood. Under both protocols of
# src/eval/adfa-ld-protocols.ts. A prototype for docs/models.md (issue 16), not part of gpo.
# Needs Debian's python3-torch (torch 1.13) and numpy; run with /usr/bin/python3.
#   train one model, both protocols; scores go to OUT (default /tmp/recurrent), nothing chosen on test traces:
#     H=200 L=1 SEED=1 P=published|agreed|both nice -n 10 /usr/bin/python3 docs/prototypes/recurrent-lm.py train [ADFA-LD folder]
#   report each trained model, their ensemble and the combination with gpo's default score
#   (node docs/prototypes/gpo-default-scores.mjs [ADFA-LD folder] > $OUT/gpo-default-scores.json first):
#     /usr/bin/python3 docs/prototypes/recurrent-lm.py report
import numpy as np, os, sys, glob, re, time, json
mode=sys.argv[1] if len(sys.argv)>1 else 'train'
D=sys.argv[2] if len(sys.argv)>2 else os.path.join(os.path.dirname(__file__),'../../../shared/datasets/adfa-ld')
OUT=os.environ.get('OUT','/tmp/recurrent'); os.makedirs(OUT,exist_ok=True)
def read(p): return [int(x) for x in open(p).read().split()]
def rel(p): return os.path.relpath(p,D)
train={rel(p):read(p) for p in sorted(glob.glob(D+'/Training_Data_Master/*.txt'))}
val={int(re.search(r'UVD-(\d+)',p).group(1)):rel(p) for p in glob.glob(D+'/Validation_Data_Master/*.txt')}
trace={**train,**{r:read(os.path.join(D,r)) for r in val.values()}}
attack=[rel(p) for p in sorted(glob.glob(D+'/Attack_Data_Master/*/*.txt'))]
trace.update({r:read(os.path.join(D,r)) for r in attack})
# The two protocols: training traces, normal test traces (the attack test traces are the same for both).
PROTOCOLS={'published':(list(train),[val[i] for i in range(1,2001)]),
           'agreed':(list(train)+[val[i] for i in range(1,1001)],[val[i] for i in range(1001,2001)])}

# Metrics as docs/prototypes/neural-ngram.py computes them (auc, far90), and as src/eval/roc.ts does.
def auc(neg,pos):
    s=np.concatenate([neg,pos])  # Mann-Whitney with average ranks for ties
    order=np.argsort(s); ranks=np.empty(len(s)); i=0; ss=s[order]
    while i<len(s):
        j=i
        while j+1<len(s) and ss[j+1]==ss[i]: j+=1
        ranks[order[i:j+1]]=(i+j)/2+1; i=j+1
    rp=ranks[len(neg):].sum(); return (rp-len(pos)*(len(pos)+1)/2)/(len(pos)*len(neg))
def far90(neg,pos):
    t=np.quantile(pos,0.10); return (neg>=t).mean()
def roc_summary(neg,pos):
    """src/eval/roc.ts summarizeRoc: lowest false-alarm rate detecting >= 90%; best detection at <= 1% false alarms."""
    fa=de=0; f90=1.0; d1=0.0
    lab=sorted([(s,0) for s in neg]+[(s,1) for s in pos],key=lambda x:-x[0]); i=0
    while i<len(lab):
        t=lab[i][0]
        while i<len(lab) and lab[i][0]==t:
            if lab[i][1]: de+=1
            else: fa+=1
            i+=1
        fpr=fa/len(neg); tpr=de/len(pos)
        if tpr>=0.9: f90=min(f90,fpr)
        if fpr<=0.01: d1=max(d1,tpr)
    return f90,d1
def line(neg,pos):
    neg=np.asarray(neg); pos=np.asarray(pos); f90,d1=roc_summary(neg,pos)
    return f'AUC {auc(neg,pos):.3f}  FA@90%DR {f90*100:.1f}% (quantile form {far90(neg,pos)*100:.1f}%)  DR@1%FA {d1*100:.1f}%'

H=int(os.environ.get('H',200)); L=int(os.environ.get('L',1)); E=int(os.environ.get('E',32)); SEED=int(os.environ.get('SEED',1))
T=int(os.environ.get('T',100)); B=int(os.environ.get('B',32)); LR=float(os.environ.get('LR',2e-3)); DROP=float(os.environ.get('DROP',0.2))
EP=int(os.environ.get('EP',30)); PATIENCE=int(os.environ.get('PATIENCE',2)); MAXMIN=float(os.environ.get('MAXMIN',20))
NAME=os.environ.get('NAME',f'lstm-h{H}-l{L}-s{SEED}')

def train_and_score(protocol):
    import torch, torch.nn as nn
    torch.set_num_threads(1); torch.manual_seed(SEED); rng=np.random.default_rng(SEED)
    tr,normal=PROTOCOLS[protocol]
    voc={}
    for r in tr:
        for c in trace[r]: voc.setdefault(c,len(voc)+3)   # 0 pad, 1 start of trace, 2 a call training never made
    V=len(voc)+3
    enc=lambda r: [1]+[voc.get(c,2) for c in trace[r]]      # inputs; targets are the calls themselves
    # 10% of the training traces held out, for early stopping only (and as the held-out scores for scaling);
    # the same traces for every model (split seed fixed), so an ensemble has held-out scores too.
    perm=np.random.default_rng(0).permutation(len(tr)); nho=len(tr)//10
    ho=[tr[i] for i in perm[:nho]]; fit=[tr[i] for i in perm[nho:]]
    class LM(nn.Module):
        def __init__(s):
            super().__init__(); s.emb=nn.Embedding(V,E,padding_idx=0); s.drop=nn.Dropout(DROP)
            s.rnn=nn.LSTM(E,H,L,batch_first=True,dropout=DROP if L>1 else 0); s.out=nn.Linear(H,V)
        def forward(s,x,h=None):
            y,h=s.rnn(s.drop(s.emb(x)),h); return s.out(s.drop(y)),h
    m=LM(); opt=torch.optim.Adam(m.parameters(),lr=LR); ce=nn.CrossEntropyLoss(ignore_index=0,reduction='sum')
    def batch(rs):
        seqs=[enc(r) for r in rs]; n=max(len(s) for s in seqs)
        x=torch.zeros(len(seqs),n,dtype=torch.long)
        for i,s in enumerate(seqs): x[i,:len(s)]=torch.tensor(s)
        return x[:,:-1],x[:,1:].clone()   # target 0 (pad) is ignored
    def per_call_nll(rs,bs=64):
        """Mean per-call negative log-likelihood of each trace, whole trace at once (no truncation)."""
        m.eval(); out={}
        order=sorted(rs,key=lambda r:len(trace[r]))
        with torch.no_grad():
            for i in range(0,len(order),bs):
                chunk=order[i:i+bs]; x,y=batch(chunk); z,_=m(x)
                nll=nn.functional.cross_entropy(z.reshape(-1,V),y.reshape(-1),ignore_index=0,reduction='none').reshape(y.shape)
                mask=(y!=0).float(); s=(nll*mask).sum(1)/mask.sum(1)
                for r,v in zip(chunk,s.tolist()): out[r]=v
        return out
    def heldout_loss():
        sc=per_call_nll(ho); n=np.array([len(trace[r]) for r in ho]); return float((np.array([sc[r] for r in ho])*n).sum()/n.sum())
    # Batches of B traces of similar length, truncated BPTT over T calls carrying the state forward.
    bylen=sorted(fit,key=lambda r:len(trace[r])); batches=[bylen[i:i+B] for i in range(0,len(bylen),B)]
    best=(heldout_loss(),None,-1); t_start=time.time(); print(f'{NAME} {protocol}: {len(fit)} fit / {len(ho)} held out, V={V}, start held-out nll {best[0]:.4f}',flush=True)
    bad=0
    for ep in range(EP):
        m.train(); t0=time.time(); tot=0; cnt=0
        for bi in rng.permutation(len(batches)):
            x,y=batch(batches[bi]); h=None
            for s in range(0,x.shape[1],T):
                xs,ys=x[:,s:s+T],y[:,s:s+T]; n=int((ys!=0).sum())
                if n==0: break
                z,h=m(xs,h); h=tuple(v.detach() for v in h)
                loss=ce(z.reshape(-1,V),ys.reshape(-1))/n
                opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(m.parameters(),1.0); opt.step()
                tot+=loss.item()*n; cnt+=n
        hl=heldout_loss()
        print(f'{NAME} {protocol} epoch {ep} train nll {tot/cnt:.4f} held-out nll {hl:.4f} ({time.time()-t0:.0f}s)',flush=True)
        if hl<best[0]: best=(hl,{k:v.clone() for k,v in m.state_dict().items()},ep); bad=0
        else:
            bad+=1
            if bad>=PATIENCE: break
        if (time.time()-t_start)/60>MAXMIN: print(f'{NAME} {protocol}: stopped at the {MAXMIN:.0f}-minute cap',flush=True); break
    if best[1] is not None: m.load_state_dict(best[1])
    scores=per_call_nll(normal+attack+ho)
    res={'protocol':protocol,'name':NAME,'config':dict(H=H,L=L,E=E,SEED=SEED,T=T,B=B,LR=LR,DROP=DROP),'best_epoch':best[2],
         'heldout_nll':best[0],'minutes':(time.time()-t_start)/60,'heldout':{r:scores[r] for r in ho},
         'scores':{r:scores[r] for r in normal+attack}}
    json.dump(res,open(f'{OUT}/{NAME}-{protocol}.json','w'))
    report_one(res)

def report_one(res):
    sc=res['scores']; pos=[sc[r] for r in attack]; protocol=res['protocol']
    print(f"{res['name']} {protocol} (best epoch {res['best_epoch']}, {res['minutes']:.1f} min): "+line([sc[r] for r in PROTOCOLS[protocol][1]],pos),flush=True)
    if protocol=='published':
        for a,b in ((1,1000),(1001,2000)): print(f'   UVD-{a:04d}..{b:04d} alone: '+line([sc[val[i]] for i in range(a,b+1)],pos),flush=True)

def scaled(x,held):
    """(x - held-out median) / (held-out q99 - median), as src/model/calibration.ts componentScale (MIN 0.01)."""
    h=np.sort(np.asarray(held)); c=np.quantile(h,0.5); return (np.asarray(x)-c)/max(0.01,np.quantile(h,0.99)-c)

def report():
    gpo=json.load(open(f'{OUT}/gpo-default-scores.json')) if os.path.exists(f'{OUT}/gpo-default-scores.json') else None
    ens=[n for n in os.environ.get('ENSEMBLE','').split(',') if n]
    for protocol,(tr,normal) in PROTOCOLS.items():
        runs=sorted(glob.glob(f'{OUT}/*-{protocol}.json')); runs=[json.load(open(f)) for f in runs if not f.endswith('gpo-default-scores.json')]
        if not runs: continue
        print(f'== {protocol}')
        for res in runs: report_one(res)
        tests=normal+attack; half=[val[i] for i in range(1,1001)]
        def show(title,score):   # score: dict trace -> value
            print(f'{title}: '+line([score[r] for r in normal],[score[r] for r in attack]))
            if protocol=='published': print(f'   UVD-0001..1000 alone: '+line([score[r] for r in half],[score[r] for r in attack]))
        chosen=[r for r in runs if r['name'] in ens] if ens else runs
        if len(chosen)>1:
            names='+'.join(r['name'] for r in chosen)
            show(f'ensemble, mean of mean NLL ({names})',{t:np.mean([r['scores'][t] for r in chosen]) for t in tests})
        if gpo is None: continue
        g=gpo[protocol]; s,c=np.array(g['heldOut']).T
        gs={t:v[2] for t,v in g['scores'].items()}; show('gpo default score (check against gpo eval)',gs)
        for r in ([*chosen] if len(chosen)==1 else [*chosen,None]):
            if r is None:   # ensemble: every model held out the same traces
                held=[np.mean([x['heldout'][t] for x in chosen]) for t in chosen[0]['heldout']]
                lm={t:np.mean([x['scores'][t] for x in chosen]) for t in tests}; title='ensemble'
            else: held=list(r['heldout'].values()); lm=r['scores']; title=r['name']
            lms=dict(zip(tests,scaled([lm[t] for t in tests],held)))
            show(f'gpo default + {title} (scaled by its held-out median, q99)',{t:gs[t]+lms[t] for t in tests})
            sur=dict(zip(tests,scaled([g['scores'][t][0] for t in tests],s))); con=dict(zip(tests,scaled([g['scores'][t][1] for t in tests],c)))
            show(f'   {title} + context score only',{t:con[t]+lms[t] for t in tests})
if mode=='train':
    for p in (['published','agreed'] if os.environ.get('P','both')=='both' else [os.environ['P']]): train_and_score(p)
else: report()
